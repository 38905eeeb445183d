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
     * ARCHITECTURE: the simulator is a host GPU behind the core's {@code HostGpu} API. It still decodes commands
     * with the core's command table ({@code dev.jgvt.core.cmd}) until it has its own hardware table; that is the
     * one allowance, and it goes when the simulator's decoder stops using the scanner's table.
     */
    @Test
    void usesOnlyTheHostApiOfTheCore() {
        ArchitectureRules.gpuSimUsesOnlyTheHostApi("dev.jgvt.core.cmd..").check(classes);
    }

    @Test
    void noStandardStreams() {
        ArchitectureRules.NO_STANDARD_STREAMS.check(classes);
    }
}
