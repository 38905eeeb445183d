package dev.jgvt.core.gtt;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.jgvt.testing.arch.ArchitectureRules;
import org.junit.jupiter.api.Test;

/** The architecture rules for the graphics-memory packages of the core: host, gtt, track. */
final class ArchitectureTest {
    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.jgvt.core.host", "dev.jgvt.core.gtt", "dev.jgvt.core.track");

    @Test
    void commonRules() {
        ArchitectureRules.common().forEach(rule -> rule.check(classes));
    }

    @Test
    void coreRules() {
        ArchitectureRules.CORE_DOES_NOT_USE_PLUGINS.check(classes);
        ArchitectureRules.NO_STANDARD_STREAMS.check(classes);
    }
}
