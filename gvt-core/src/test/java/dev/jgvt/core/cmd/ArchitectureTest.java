package dev.jgvt.core.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

/** The architecture rules for the command scanner package. */
final class ArchitectureTest {
    private static final JavaClasses CMD = ArchitectureRules.productionClasses("dev.jgvt.core.cmd");

    @Test
    void commandScannerFollowsTheModuleRules() {
        assertThat(CMD).isNotEmpty();
        ArchitectureRules.CORE_DOES_NOT_USE_PLUGINS.check(CMD);
        ArchitectureRules.NO_STANDARD_STREAMS.check(CMD);
        ArchitectureRules.common().forEach(rule -> rule.check(CMD));
    }
}
