package dev.jgvt.testing.conformance;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

/** The kit and its fixtures see the SPI only (every plugin must be able to use them), never print, never use Unsafe. */
final class ConformanceArchitectureTest {
    @Test
    void kitAndFixturesFollowTheRules() {
        for (String pkg : new String[] {"dev.jgvt.testing.conformance", "dev.jgvt.testing.fixtures"}) {
            JavaClasses classes = ArchitectureRules.productionClasses(pkg);
            assertThat(classes).as(pkg).isNotEmpty();
            ArchitectureRules.NO_STANDARD_STREAMS.check(classes);
            ArchitectureRules.common().forEach(rule -> rule.check(classes));
            noClasses().should().dependOnClassesThat().resideInAnyPackage(
                            "dev.jgvt.core..", "dev.jgvt.plugin..", "dev.jgvt.sim..", "dev.jgvt.guest..", "dev.jgvt.cli..")
                    .as("the kit depends on the SPI only")
                    .check(classes);
        }
    }
}
