package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

/** The architecture rules that apply to the CLI (it may print; it may not use Unsafe or JDK internals). */
final class ArchitectureTest {
    private static final JavaClasses CLI = ArchitectureRules.productionClasses("dev.jgvt.cli");

    @Test
    void cliFollowsTheCommonRules() {
        assertThat(CLI).isNotEmpty();
        ArchitectureRules.common().forEach(rule -> rule.check(CLI));
    }
}
