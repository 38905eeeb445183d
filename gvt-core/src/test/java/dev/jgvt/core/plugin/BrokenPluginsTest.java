package dev.jgvt.core.plugin;

import static dev.jgvt.core.plugin.TestPluginJars.INJECTED_CONSTRUCTOR;
import static dev.jgvt.core.plugin.TestPluginJars.NO_ARG_CONSTRUCTOR;
import static dev.jgvt.core.plugin.TestPluginJars.hypervisorPluginSource;
import static dev.jgvt.core.plugin.TestPluginJars.plugin;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.plugin.PluginStatus.State;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.HostContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each kind of broken plugin, placed between two good plugins: the broken one is FAILED with a message
 * naming its file and the reason, the good ones on both sides start, and nothing of it stays loaded.
 */
final class BrokenPluginsTest {
    private static final String BROKEN_JAR = "m-broken.jar";

    enum Broken {
        NOT_A_ZIP(ErrorCode.INVALID_ARGUMENT, "not a readable jar archive", dir -> write(dir, "this is not a zip file")),
        TRUNCATED_JAR(ErrorCode.INVALID_ARGUMENT, "not a readable jar archive", dir -> {
            Path jar = plugin("broken").standardExtension().writeTo(dir, BROKEN_JAR);
            byte[] bytes = read(jar);
            writeBytes(jar, Arrays.copyOf(bytes, bytes.length / 2));
        }),
        NO_DESCRIPTOR(ErrorCode.INVALID_ARGUMENT, "no plugin descriptor",
                dir -> plugin("broken").standardExtension().withoutManifest("Plugin-Id").writeTo(dir, BROKEN_JAR)),
        NO_VERSION(ErrorCode.INVALID_ARGUMENT, "has no Plugin-Version",
                dir -> plugin("broken").standardExtension().withoutManifest("Plugin-Version").writeTo(dir, BROKEN_JAR)),
        REQUIRES_NEWER_SPI(ErrorCode.INCOMPATIBLE_VERSION, "Plugin-Requires '>=2.0.0' does not accept SPI version 1.2.0",
                dir -> plugin("broken").standardExtension().manifest("Plugin-Requires", ">=2.0.0").writeTo(dir, BROKEN_JAR)),
        REQUIRES_OLDER_SPI(ErrorCode.INCOMPATIBLE_VERSION, "does not accept SPI version",
                dir -> plugin("broken").standardExtension().manifest("Plugin-Requires", "<1.0.0").writeTo(dir, BROKEN_JAR)),
        REQUIRES_GARBAGE(ErrorCode.INCOMPATIBLE_VERSION, "Plugin-Requires 'banana!' is not a version range",
                dir -> plugin("broken").standardExtension().manifest("Plugin-Requires", "banana!").writeTo(dir, BROKEN_JAR)),
        SPI_VERSION_NEWER_THAN_HOST(ErrorCode.INCOMPATIBLE_VERSION, "built against SPI 1.7.0 (Jgvt-Spi-Version), which cannot run on SPI 1.2.0",
                dir -> plugin("broken").standardExtension().manifest("Jgvt-Spi-Version", "1.7.0").writeTo(dir, BROKEN_JAR)),
        SPI_VERSION_OTHER_MAJOR(ErrorCode.INCOMPATIBLE_VERSION, "built against SPI 0.9.0",
                dir -> plugin("broken").standardExtension().manifest("Jgvt-Spi-Version", "0.9.0").writeTo(dir, BROKEN_JAR)),
        SPI_VERSION_MALFORMED(ErrorCode.INCOMPATIBLE_VERSION, "Jgvt-Spi-Version is invalid: not a MAJOR.MINOR.PATCH version: 'one.two'",
                dir -> plugin("broken").standardExtension().manifest("Jgvt-Spi-Version", "one.two").writeTo(dir, BROKEN_JAR)),
        DUPLICATE_ID(ErrorCode.ALREADY_EXISTS, "duplicate plugin id 'alpha': a-good.jar has it already",
                dir -> plugin("alpha").standardExtension().writeTo(dir, BROKEN_JAR)),
        DEPENDS_ON_A_PLUGIN(ErrorCode.UNSUPPORTED, "declares Plugin-Dependencies",
                dir -> plugin("broken").standardExtension().manifest("Plugin-Dependencies", "alpha@>=1.0.0").writeTo(dir, BROKEN_JAR)),
        PLUGIN_START_THROWS(ErrorCode.INTERNAL, "failed to start (IllegalStateException: boom in start)", dir -> {
            TestPluginJars.Builder builder = plugin("broken").standardExtension();
            builder.source("Lifecycle", """
                    package %s;
                    public final class Lifecycle extends org.pf4j.Plugin {
                        @Override public void start() { throw new IllegalStateException("boom in start"); }
                    }
                    """.formatted(builder.pkg()));
            builder.manifest("Plugin-Class", builder.pkg() + ".Lifecycle").writeTo(dir, BROKEN_JAR);
        }),
        PLUGIN_CLASS_MISSING(ErrorCode.INVALID_ARGUMENT, "Plugin-Class test.broken.Missing cannot be loaded (ClassNotFoundException: test.broken.Missing)",
                dir -> plugin("broken").standardExtension().manifest("Plugin-Class", "test.broken.Missing").writeTo(dir, BROKEN_JAR)),
        EXTENSION_CONSTRUCTOR_THROWS(ErrorCode.INTERNAL, "creating test.broken.TestHypervisor failed (IllegalStateException: boom in constructor)",
                dir -> plugin("broken").extension("TestHypervisor", hypervisorPluginSource("test.broken", "TestHypervisor", "broken",
                        "public NAME() { throw new IllegalStateException(\"boom in constructor\"); }")).writeTo(dir, BROKEN_JAR)),
        PLUGIN_CLASS_NOT_A_PLUGIN(ErrorCode.INVALID_ARGUMENT, "Plugin-Class test.broken.TestHypervisor does not extend org.pf4j.Plugin",
                dir -> plugin("broken").standardExtension().manifest("Plugin-Class", "test.broken.TestHypervisor").writeTo(dir, BROKEN_JAR)),
        EXTENSION_NOT_INJECTABLE(ErrorCode.INTERNAL, "creating test.broken.TestHypervisor failed (Guice: No injectable constructor",
                dir -> plugin("broken").extension("TestHypervisor", hypervisorPluginSource("test.broken", "TestHypervisor", "broken",
                        "public NAME(String notInjectable) {}")).writeTo(dir, BROKEN_JAR)),
        NO_EXTENSION(ErrorCode.INVALID_ARGUMENT, "plugin 'broken' has no HypervisorPlugin extension", dir -> {
            TestPluginJars.Builder builder = plugin("broken");
            builder.source("TestHypervisor", hypervisorPluginSource(builder.pkg(), "TestHypervisor", "broken", NO_ARG_CONSTRUCTOR))
                    .writeTo(dir, BROKEN_JAR);
        }),
        NO_INDEX(ErrorCode.INVALID_ARGUMENT, "plugin 'broken' has no HypervisorPlugin extension", dir -> {
            TestPluginJars.Builder builder = plugin("broken").noIndex();
            builder.source("TestHypervisor", hypervisorPluginSource(builder.pkg(), "TestHypervisor", "broken", NO_ARG_CONSTRUCTOR))
                    .writeTo(dir, BROKEN_JAR);
        }),
        INDEX_NAMES_MISSING_CLASS(ErrorCode.INVALID_ARGUMENT, "plugin 'broken' has no HypervisorPlugin extension",
                dir -> plugin("broken").indexLine("test.broken.NotThere").writeTo(dir, BROKEN_JAR)),
        TWO_EXTENSIONS(ErrorCode.INVALID_ARGUMENT,
                "plugin 'broken' has 2 HypervisorPlugin extensions (test.broken.First, test.broken.Second); a plugin provides exactly one",
                dir -> plugin("broken")
                        .extension("First", hypervisorPluginSource("test.broken", "First", "broken", NO_ARG_CONSTRUCTOR))
                        .extension("Second", hypervisorPluginSource("test.broken", "Second", "broken", NO_ARG_CONSTRUCTOR))
                        .writeTo(dir, BROKEN_JAR)),
        CAPABILITIES_THROW(ErrorCode.INTERNAL, "test.broken.TestHypervisor.capabilities() failed (UnsupportedOperationException: no caps)",
                dir -> plugin("broken").extension("TestHypervisor", hypervisorPluginSource("test.broken", "TestHypervisor", "broken",
                                NO_ARG_CONSTRUCTOR).replace("return Set.of(Capability.PAGE_TRACKING);",
                                "throw new UnsupportedOperationException(\"no caps\");"))
                        .writeTo(dir, BROKEN_JAR)),
        CAPABILITIES_NULL(ErrorCode.INVALID_ARGUMENT, "test.broken.TestHypervisor.capabilities() returned null or a set containing null",
                dir -> plugin("broken").extension("TestHypervisor", hypervisorPluginSource("test.broken", "TestHypervisor", "broken",
                                NO_ARG_CONSTRUCTOR).replace("return Set.of(Capability.PAGE_TRACKING);", "return null;"))
                        .writeTo(dir, BROKEN_JAR)),
        ID_MISMATCH(ErrorCode.INVALID_ARGUMENT,
                "test.broken.TestHypervisor.id() returns 'something-else' but the descriptor's Plugin-Id is 'broken'",
                dir -> plugin("broken").extension("TestHypervisor",
                        hypervisorPluginSource("test.broken", "TestHypervisor", "something-else", INJECTED_CONSTRUCTOR)).writeTo(dir, BROKEN_JAR));

        final ErrorCode code;
        final String reason;
        final Consumer<Path> writer;

        Broken(ErrorCode code, String reason, Consumer<Path> writer) {
            this.code = code;
            this.reason = reason;
            this.writer = writer;
        }
    }

    @ParameterizedTest
    @EnumSource(Broken.class)
    void aBrokenPluginFailsAloneWithAMessageNamingItsFile(Broken broken, @TempDir Path dir) {
        plugin("alpha").standardExtension().writeTo(dir, "a-good.jar");
        broken.writer.accept(dir);
        plugin("omega").standardExtension().writeTo(dir, "z-good.jar");

        try (PluginRegistry registry = PluginRegistry.load(dir, id -> new HostContext() {})) {
            List<PluginStatus> statuses = registry.statuses();

            assertThat(statuses).extracting(s -> s.file().getFileName().toString())
                    .containsExactly("a-good.jar", BROKEN_JAR, "z-good.jar");
            assertThat(statuses.get(0).state()).isEqualTo(State.STARTED);
            assertThat(statuses.get(2).state()).isEqualTo(State.STARTED);
            PluginStatus failed = statuses.get(1);
            assertThat(failed.state()).isEqualTo(State.FAILED);
            assertThat(failed.failure()).hasValueSatisfying(failure -> {
                assertThat(failure.code()).isEqualTo(broken.code);
                assertThat(failure.message()).startsWith(BROKEN_JAR + ": ").contains(broken.reason).doesNotContain("\n");
            });
            assertThat(failed.capabilities()).isEmpty();
            assertThat(failed.availability()).isEmpty();
            // nothing of the broken jar stays in PF4J (its class loader was closed and dropped)
            assertThat(registry.manager().getPlugins()).extracting(p -> p.getPluginPath().getFileName().toString())
                    .containsExactly("a-good.jar", "z-good.jar");
            assertThat(registry.plugin("alpha").id()).isEqualTo("alpha");
            assertThat(registry.plugin("omega").id()).isEqualTo("omega");
        }
    }

    @Test
    void aFailedPluginIsNotFoundWithItsFailureInTheMessage(@TempDir Path dir) {
        plugin("broken").standardExtension().manifest("Plugin-Requires", ">=9.0.0").writeTo(dir, BROKEN_JAR);
        try (PluginRegistry registry = PluginRegistry.load(dir, id -> new HostContext() {})) {
            assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(dev.jgvt.spi.GvtException.class,
                            () -> registry.plugin("broken")))
                    .satisfies(e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                        assertThat(e.getMessage()).isEqualTo("plugin 'broken' is FAILED: " + BROKEN_JAR
                                + ": Plugin-Requires '>=9.0.0' does not accept SPI version 1.2.0");
                    });
        }
    }

    private static void write(Path dir, String text) {
        writeBytes(dir.resolve(BROKEN_JAR), text.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void writeBytes(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
