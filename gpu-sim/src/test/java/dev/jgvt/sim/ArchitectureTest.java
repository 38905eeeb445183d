package dev.jgvt.sim;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

final class ArchitectureTest {
    private final JavaClasses classes = ArchitectureRules.productionClasses("dev.jgvt.sim");

    @Test
    void commonRules() {
        ArchitectureRules.common().forEach(rule -> rule.check(classes));
    }

    /**
     * ARCHITECTURE: the simulator is a host GPU behind the core's {@code HostGpu} API; it decodes commands from its
     * own hardware table, never the scanner's.
     */
    @Test
    void usesOnlyTheHostApiOfTheCore() {
        ArchitectureRules.gpuSimUsesOnlyTheHostApi().check(classes);
    }

    @Test
    void noStandardStreams() {
        ArchitectureRules.NO_STANDARD_STREAMS.check(classes);
    }
}
