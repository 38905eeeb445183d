package dev.jgvt.plugin.xen;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

/** The Xen plugin obeys the module rules: SPI only, no standard streams, no Unsafe. */
final class ArchitectureTest {
    private static final JavaClasses CLASSES = ArchitectureRules.productionClasses("dev.jgvt.plugin.xen");

    @Test
    void xenPluginFollowsTheRules() {
        assertThat(CLASSES).isNotEmpty();
        ArchitectureRules.PLUGINS_DO_NOT_USE_CORE.check(CLASSES);
        ArchitectureRules.NO_STANDARD_STREAMS.check(CLASSES);
        ArchitectureRules.common().forEach(rule -> rule.check(CLASSES));
    }
}
