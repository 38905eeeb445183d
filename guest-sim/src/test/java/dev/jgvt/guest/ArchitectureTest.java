package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

final class ArchitectureTest {
    private static final JavaClasses CLASSES = ArchitectureRules.productionClasses("dev.jgvt.guest");

    @Test
    void guestSimulatorIsAGuest() {
        assertThat(CLASSES).isNotEmpty();
        ArchitectureRules.GUEST_SIM_IS_A_GUEST.check(CLASSES);
        ArchitectureRules.NO_STANDARD_STREAMS.check(CLASSES);
        ArchitectureRules.common().forEach(rule -> rule.check(CLASSES));
    }
}
