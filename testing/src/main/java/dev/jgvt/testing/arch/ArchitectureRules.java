package dev.jgvt.testing.arch;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
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

    /** The core's packages form no cycle: each can be read, tested and changed without the ones that use it. */
    public static final ArchRule CORE_PACKAGES_ARE_FREE_OF_CYCLES = slices()
            .matching("dev.jgvt.core.(*)..")
            .should().beFreeOfCycles()
            .as("the packages of dev.jgvt.core depend on each other without cycles");

    /** The hardware vocabulary is a leaf that every package may use. */
    public static final ArchRule HW_IS_A_LEAF = classes()
            .that().resideInAPackage("dev.jgvt.core.hw..")
            .should().onlyDependOnClassesThat(resideInAPackage("dev.jgvt.core.hw..")
                    .or(resideOutsideOfPackage("dev.jgvt..")))
            .as("dev.jgvt.core.hw depends on nothing else of jgvt");

    /**
     * The software GPU implements the core's {@code HostGpu} API and uses nothing else of the core: the host API
     * ({@code dev.jgvt.core.host}) and the hardware vocabulary ({@code dev.jgvt.core.hw}), plus the SPI's errors.
     *
     * @param alsoAllowed packages of the core the simulator may still use for now (each one a documented gap)
     */
    public static ArchRule gpuSimUsesOnlyTheHostApi(String... alsoAllowed) {
        String[] allowed = new String[alsoAllowed.length + 2];
        allowed[0] = "dev.jgvt.core.host..";
        allowed[1] = "dev.jgvt.core.hw..";
        System.arraycopy(alsoAllowed, 0, allowed, 2, alsoAllowed.length);
        return noClasses()
                .that().resideInAPackage("dev.jgvt.sim..")
                .should().dependOnClassesThat(resideInAPackage("dev.jgvt.core..").and(resideOutsideOfPackages(allowed)))
                .as("gpu-sim uses only the core's HostGpu API (dev.jgvt.core.host, dev.jgvt.core.hw)"
                        + (alsoAllowed.length == 0 ? "" : " and, for now, " + String.join(", ", alsoAllowed)));
    }

    private static DescribedPredicate<JavaClass> resideOutsideOfPackages(String... packages) {
        return resideInAnyPackage(packages).negate().as("reside outside of " + String.join(", ", packages));
    }

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
