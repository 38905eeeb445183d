package dev.jgvt.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

/** The module rules of ARCHITECTURE §2, applied to gvt-core's production classes. */
final class ArchitectureTest {
    private static final JavaClasses CORE = ArchitectureRules.productionClasses("dev.jgvt.core");

    @Test
    void coreKnowsNoPluginNorTheCliNorTheSimulators() {
        assertThat(CORE).isNotEmpty();
        ArchitectureRules.CORE_DOES_NOT_USE_PLUGINS.check(CORE);
    }

    @Test
    void coreLogsAndNeverPrints() {
        ArchitectureRules.NO_STANDARD_STREAMS.check(CORE);
    }

    @Test
    void corePackagesFormNoCycle() {
        ArchitectureRules.CORE_PACKAGES_ARE_FREE_OF_CYCLES.check(CORE);
    }

    @Test
    void theHardwareVocabularyIsALeaf() {
        ArchitectureRules.HW_IS_A_LEAF.check(CORE);
    }

    @Test
    void coreObeysTheCommonRules() {
        ArchitectureRules.common().forEach(rule -> rule.check(CORE));
    }
}
