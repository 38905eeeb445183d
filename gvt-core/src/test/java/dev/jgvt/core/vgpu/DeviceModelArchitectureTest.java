package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The architecture rules for the device-model packages of the core. */
final class DeviceModelArchitectureTest {
    @ParameterizedTest
    @ValueSource(strings = {"dev.jgvt.core.vgpu", "dev.jgvt.core.pci", "dev.jgvt.core.mmio", "dev.jgvt.core.irq",
            "dev.jgvt.core.display"})
    void packageFollowsTheRules(String pkg) {
        JavaClasses classes = ArchitectureRules.productionClasses(pkg);
        assertThat(classes).isNotEmpty();
        ArchitectureRules.CORE_DOES_NOT_USE_PLUGINS.check(classes);
        ArchitectureRules.NO_STANDARD_STREAMS.check(classes);
        ArchitectureRules.common().forEach(rule -> rule.check(classes));
    }
}
