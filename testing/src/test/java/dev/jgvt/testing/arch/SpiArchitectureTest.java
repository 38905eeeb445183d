package dev.jgvt.testing.arch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.junit.jupiter.api.Test;

/** The SPI module cannot depend on testing (testing depends on it), so its rules are checked here. */
final class SpiArchitectureTest {
    private static final JavaClasses SPI = ArchitectureRules.productionClasses("dev.jgvt.spi");

    @Test
    void spiIsSelfContained() {
        assertThat(SPI).isNotEmpty();
        ArchitectureRules.SPI_IS_SELF_CONTAINED.check(SPI);
        ArchitectureRules.NO_STANDARD_STREAMS.check(SPI);
        ArchitectureRules.common().forEach(rule -> rule.check(SPI));
    }

    @Test
    void rulesCatchAViolation() {
        // a class that prints must fail the standard-streams rule: the rule is not vacuous
        JavaClasses printer = new ClassFileImporter().importClasses(Printer.class);
        assertThatThrownBy(() -> ArchitectureRules.NO_STANDARD_STREAMS.check(printer)).isInstanceOf(AssertionError.class);
    }

    static final class Printer {
        void print() {
            System.out.println("x");
        }
    }
}
