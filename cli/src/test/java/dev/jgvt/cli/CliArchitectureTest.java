package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

/** The CLI may print, but follows the rules common to every module. */
final class CliArchitectureTest {
    @Test
    void cliFollowsTheCommonRules() {
        JavaClasses classes = ArchitectureRules.productionClasses("dev.jgvt.cli");
        assertThat(classes).isNotEmpty();
        ArchitectureRules.common().forEach(rule -> rule.check(classes));
    }
}
