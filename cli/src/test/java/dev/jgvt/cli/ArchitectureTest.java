package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

/** The rules of ARCHITECTURE §2 that apply to the CLI (the one module that may print). */
final class ArchitectureTest {
    private static final JavaClasses CLI = ArchitectureRules.productionClasses("dev.jgvt.cli");

    @Test
    void cliObeysTheCommonRules() {
        assertThat(CLI).isNotEmpty();
        ArchitectureRules.common().forEach(rule -> rule.check(CLI));
    }
}
