package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgvt.spi.SpiVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/gvt} of the assembled distribution, run as a process. */
final class PluginsCommandIT {
    @Test
    void theLauncherRejectsAnUnknownLogLevelInOneLineAndTakesAKnownOneInAnyCase() throws Exception {
        Distribution.Result bad = Distribution.gvtWithEnvironment(Map.of("JGVT_LOG_LEVEL", "bogus"), "version");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.out()).isEmpty();
        assertThat(bad.err()).isEqualTo("gvt: JGVT_LOG_LEVEL='bogus' is not one of trace, debug, info, warn, error, off\n");
        Distribution.Result good = Distribution.gvtWithEnvironment(Map.of("JGVT_LOG_LEVEL", "ERROR"), "version");
        assertThat(good.exitCode()).as(good.err()).isZero();
    }

    @Test
    void theDistributionsPluginsAreLoadedFromItsPluginsDirectory() throws Exception {
        Distribution.Result result = Distribution.gvt("plugins", "--json");

        assertThat(result.exitCode()).as("stderr: %s", result.err()).isZero();
        Map<String, JsonNode> byId = byId(new ObjectMapper().readTree(result.out()));
        assertThat(byId).containsOnlyKeys("fake", "kvm-vfio", "xen");
        Path plugins = Distribution.home().resolve("plugins").toRealPath();
        for (JsonNode plugin : byId.values()) {
            assertThat(plugin.get("state").asText()).as(plugin.toString()).isEqualTo("STARTED");
            assertThat(plugin.get("error").isNull()).as(plugin.toString()).isTrue();
            assertThat(Path.of(plugin.get("file").asText()).getParent()).isEqualTo(plugins);
            assertThat(plugin.get("capabilities").isArray()).isTrue();
        }
        assertThat(byId.get("fake").get("available").asBoolean()).isTrue();
        // kvm-vfio needs only AF_UNIX; xen (native backend by default) is not on a dom0 here
        assertThat(byId.get("kvm-vfio").get("available").asBoolean()).isTrue();
        assertThat(byId.get("kvm-vfio").get("reason").asText()).contains("vfio-user");
        assertThat(byId.get("xen").get("available").asBoolean()).isFalse();
        String xenReason = byId.get("xen").get("reason").asText();
        if (xenLibrariesInstalled() && !Files.exists(Path.of("/dev/xen/privcmd"))) {
            // the native backend's off-Xen path: the libraries load, every *_open fails with ENOENT
            assertThat(xenReason).isEqualTo("Xen not available (not a dom0)");
        } else {
            // a machine without Debian's Xen libraries says that instead
            assertThat(xenReason).satisfiesAnyOf(r -> assertThat(r).startsWith("Xen not available"),
                    r -> assertThat(r).startsWith("Xen libraries not installed"));
        }
    }

    /** Whether Debian's Xen user-space libraries (libxendevicemodel1, libxenforeignmemory1, libxenevtchn1) are installed. */
    private static boolean xenLibrariesInstalled() {
        List<String> sonames = List.of("libxentoollog.so.1", "libxendevicemodel.so.1", "libxenforeignmemory.so.1", "libxenevtchn.so.1");
        return Stream.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib")
                .map(Path::of)
                .anyMatch(dir -> sonames.stream().allMatch(so -> Files.exists(dir.resolve(so))));
    }

    @Test
    void theTableShowsTheSameThree() throws Exception {
        Distribution.Result result = Distribution.gvt("plugins");

        assertThat(result.exitCode()).as("stderr: %s", result.err()).isZero();
        List<String> lines = result.out().lines().toList();
        assertThat(lines.getFirst()).matches("ID +VERSION +STATE +CAPABILITIES +STATUS");
        assertThat(lines.subList(1, lines.size())).hasSize(3).allMatch(line -> line.contains(" STARTED "));
    }

    @Test
    void aBrokenJarNextToTheRealPluginsIsReportedAndTheOthersStillLoad(@TempDir Path dir) throws Exception {
        try (Stream<Path> jars = Files.list(Distribution.home().resolve("plugins"))) {
            for (Path jar : jars.toList()) {
                Files.copy(jar, dir.resolve(jar.getFileName()));
            }
        }
        Files.writeString(dir.resolve("corrupt.jar"), "definitely not a zip");

        Distribution.Result result = Distribution.gvt("plugins", "--json", "--plugins-dir", dir.toString());

        assertThat(result.exitCode()).as("stderr: %s", result.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(result.out());
        assertThat(rows).hasSize(4);
        JsonNode corrupt = rows.get(0);
        assertThat(corrupt.get("state").asText()).isEqualTo("FAILED");
        assertThat(corrupt.get("error").asText()).startsWith("corrupt.jar: not a readable jar archive");
        assertThat(byId(rows)).containsOnlyKeys("fake", "kvm-vfio", "xen")
                .allSatisfy((id, row) -> assertThat(row.get("state").asText()).isEqualTo("STARTED"));
    }

    @Test
    void aMissingPluginsDirectoryExitsWithTwoAndNamesIt(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing-plugins");

        Distribution.Result result = Distribution.gvt("plugins", "--plugins-dir", missing.toString());

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("plugins directory " + missing + " does not exist");
        assertThat(result.out()).isEmpty();
    }

    @Test
    void versionPrintsJgvtSpiAndJava() throws IOException, InterruptedException {
        Distribution.Result result = Distribution.gvt("version");

        assertThat(result.exitCode()).as("stderr: %s", result.err()).isZero();
        assertThat(result.out().lines().toList()).hasSize(3).satisfies(lines -> {
            assertThat(lines.get(0)).matches("jgvt \\d+\\.\\d+\\.\\d+.*");
            assertThat(lines.get(1)).isEqualTo("spi " + SpiVersion.current());
            assertThat(lines.get(2)).startsWith("java 25");
        });
    }

    @Test
    void helpWorksOnTheCommand() throws IOException, InterruptedException {
        Distribution.Result result = Distribution.gvt("plugins", "--help");

        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).contains("Usage: gvt plugins", "--plugins-dir=DIR", "Exit codes:");
    }

    private static Map<String, JsonNode> byId(JsonNode rows) {
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode row : rows) {
            if (!row.get("id").isNull()) {
                assertThat(byId.put(row.get("id").asText(), row)).as("duplicate id in %s", rows).isNull();
            }
        }
        return byId;
    }
}
