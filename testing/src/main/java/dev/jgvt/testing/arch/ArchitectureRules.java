package dev.jgvt.testing.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;

/**
 * The module boundaries of ARCHITECTURE §2 as ArchUnit rules. Each module's {@code ArchitectureTest}
 * imports its own production classes and checks the rules that apply to it, so a violation fails the
 * build of the module that commits it.
 */
public final class ArchitectureRules {
    private ArchitectureRules() {}

    /** The production classes of the packages under {@code basePackage}, from directories or jars (tests excluded). */
    public static JavaClasses productionClasses(String basePackage) {
        return new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(basePackage);
    }

    /** The SPI depends on no jgvt module and on no DI framework. */
    public static final ArchRule SPI_IS_SELF_CONTAINED = noClasses()
            .that().resideInAPackage("dev.jgvt.spi..")
            .should().dependOnClassesThat().resideInAnyPackage(
                    "dev.jgvt.core..", "dev.jgvt.plugin..", "dev.jgvt.cli..", "dev.jgvt.sim..", "dev.jgvt.guest..",
                    "com.google.inject..", "com.google.common..", "jakarta.inject..")
            .as("the SPI depends on no jgvt module and no Guice/Guava/jakarta.inject");

    /** Plugins see the SPI only, never the core. */
    public static final ArchRule PLUGINS_DO_NOT_USE_CORE = noClasses()
            .that().resideInAPackage("dev.jgvt.plugin..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.jgvt.core..", "dev.jgvt.cli..", "dev.jgvt.sim..")
            .as("plugins never import dev.jgvt.core..");

    /** The core never knows a concrete plugin. */
    public static final ArchRule CORE_DOES_NOT_USE_PLUGINS = noClasses()
            .that().resideInAPackage("dev.jgvt.core..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.jgvt.plugin..", "dev.jgvt.cli..", "dev.jgvt.sim..",
                    "dev.jgvt.guest..")
            .as("core never imports plugins, the CLI or the simulators");

    /** The guest simulator is a guest: it knows nothing of jgvt's host side. */
    public static final ArchRule GUEST_SIM_IS_A_GUEST = noClasses()
            .that().resideInAPackage("dev.jgvt.guest..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.jgvt.core..", "dev.jgvt.spi..", "dev.jgvt.plugin..",
                    "dev.jgvt.sim..", "dev.jgvt.cli..")
            .as("guest-sim uses nothing of jgvt (it re-declares the few constants it needs)");

    /** Only the CLI writes to the process's standard streams. */
    public static final ArchRule NO_STANDARD_STREAMS = noClasses()
            .should().accessField(System.class, "out")
            .orShould().accessField(System.class, "err")
            .as("only the CLI prints to stdout/stderr; everything else logs through SLF4J");

    /** No Unsafe, no JDK internals: off-heap memory goes through FFM. */
    public static final ArchRule NO_UNSAFE = noClasses()
            .should().dependOnClassesThat().resideInAnyPackage("sun.misc..", "jdk.internal..", "sun.nio..")
            .as("no sun.misc.Unsafe or jdk.internal: off-heap memory only through FFM");

    /** Rules every module's classes obey, whatever the module. */
    public static List<ArchRule> common() {
        return List.of(NO_UNSAFE);
    }
}
