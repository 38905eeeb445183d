package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.spi.HypervisorPlugin;
import dev.jgvt.spi.SpiVersion;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The plugin jars as shipped: an extension index naming the HypervisorPlugin class (a missing annotation
 * processor leaves it silently empty on JDK 23+), the PF4J descriptor in the manifest, and none of the
 * classes the host shares (a bundled copy makes extensions invisible or breaks class identity).
 */
final class PluginPackagingIT {
    private static final Map<String, String> EXPECTED = Map.of(
            "jgvt-plugin-fake", "fake",
            "jgvt-plugin-kvm-vfio", "kvm-vfio",
            "jgvt-plugin-xen", "xen");
    private static final List<String> FORBIDDEN = List.of(
            "dev/jgvt/spi/", "org/pf4j/", "org/slf4j/", "com/google/inject/", "jakarta/inject/");

    @Test
    void everyPluginJarIsAWellFormedPf4jPlugin() throws IOException, ReflectiveOperationException {
        List<Path> jars = pluginJars();
        assertThat(jars).extracting(jar -> jar.getFileName().toString().replaceAll("-\\d.*\\.jar$", ""))
                .containsExactlyInAnyOrderElementsOf(EXPECTED.keySet());

        for (Path jar : jars) {
            String artifact = jar.getFileName().toString().replaceAll("-\\d.*\\.jar$", "");
            try (JarFile file = new JarFile(jar.toFile())) {
                Attributes manifest = file.getManifest().getMainAttributes();
                assertThat(manifest.getValue("Plugin-Id")).as(jar + " Plugin-Id").isEqualTo(EXPECTED.get(artifact));
                assertThat(manifest.getValue("Plugin-Version")).as(jar + " Plugin-Version").isNotBlank();
                assertThat(manifest.getValue("Plugin-Requires")).as(jar + " Plugin-Requires").isEqualTo(">=1.0.0 & <2.0.0");
                assertThat(manifest.getValue("Plugin-Provider")).as(jar + " Plugin-Provider").isNotBlank();
                assertThat(manifest.getValue("Jgvt-Spi-Version")).as(jar + " Jgvt-Spi-Version")
                        .isEqualTo(SpiVersion.current().toString());

                List<String> forbidden = Collections.list(file.entries()).stream().map(JarEntry::getName)
                        .filter(name -> FORBIDDEN.stream().anyMatch(name::startsWith)).toList();
                assertThat(forbidden).as(jar + " bundles shared classes").isEmpty();

                List<String> index = extensionIndex(file);
                assertThat(index).as(jar + " META-INF/extensions.idx").hasSize(1);
                String extension = index.getFirst();
                assertThat(file.getEntry(extension.replace('.', '/') + ".class")).as(extension + " in " + jar).isNotNull();
                try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()},
                        PluginPackagingIT.class.getClassLoader())) {
                    Class<?> type = Class.forName(extension, false, loader);
                    assertThat(HypervisorPlugin.class.isAssignableFrom(type)).as(extension + " implements HypervisorPlugin").isTrue();
                }
            }
        }
    }

    private static List<Path> pluginJars() throws IOException {
        try (Stream<Path> files = Files.list(Distribution.home().resolve("plugins"))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
    }

    private static List<String> extensionIndex(JarFile file) throws IOException {
        JarEntry entry = file.getJarEntry("META-INF/extensions.idx");
        assertThat(entry).as(file.getName() + " has META-INF/extensions.idx").isNotNull();
        try (InputStream in = file.getInputStream(entry)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        }
    }
}
