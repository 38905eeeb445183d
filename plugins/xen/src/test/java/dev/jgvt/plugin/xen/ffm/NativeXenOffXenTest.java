package dev.jgvt.plugin.xen.ffm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The native backend on a machine that is not a Xen dom0 (reference xen.md section 6): the libraries load,
 * every open fails with ENOENT, the plugin says "Xen not available (not a dom0)" in one line and the
 * process's stderr stays empty. Skipped, with the reason printed, where the libraries are missing or where
 * this is a real dom0.
 */
final class NativeXenOffXenTest {
    private static NativeXenLibraries libs;

    @BeforeAll
    static void load() {
        try {
            libs = NativeXenLibraries.load();
        } catch (NativeXenLibraries.Unavailable e) {
            System.out.println("NativeXenOffXenTest: Xen libraries absent, native tests skipped: " + e.getMessage());
        }
        if (Files.exists(Path.of("/dev/xen/privcmd")) || Files.exists(Path.of("/proc/xen/privcmd"))) {
            System.out.println("NativeXenOffXenTest: this machine is a Xen domain; off-Xen tests skipped");
        }
    }

    private static void assumeOffXenWithLibraries() {
        assumeThat(libs).as("Xen libraries installed").isNotNull();
        assumeThat(Files.exists(Path.of("/dev/xen/privcmd")) || Files.exists(Path.of("/proc/xen/privcmd")))
                .as("not a Xen domain").isFalse();
    }

    @Test
    void openFailsWithTheOneLineNotADom0Reason() {
        assumeOffXenWithLibraries();
        assertThat(NativeXenBackend.probe()).isEqualTo("Xen not available (not a dom0)");
        try {
            NativeXenBackend.open().close();
            throw new AssertionError("open succeeded off Xen");
        } catch (NativeXenBackend.Unavailable e) {
            assertThat(e.getMessage()).isEqualTo(NativeXenBackend.NOT_A_DOM0).doesNotContain("\n");
        }
    }

    @Test
    void closingNullHandlesIsSafeAndReturnsZero() throws Throwable {
        assumeOffXenWithLibraries();
        assertThat(NativeXenBackend.closeNull(libs)).isZero();
    }

    @Test
    void aMissingLibraryIsACleanOneLineReason() {
        try {
            NativeXenLibraries.load(List.of("libxen-does-not-exist.so.1"));
            throw new AssertionError("loaded a library that does not exist");
        } catch (NativeXenLibraries.Unavailable e) {
            assertThat(e.getMessage()).isEqualTo("Xen libraries not installed (cannot open libxen-does-not-exist.so.1)");
        }
    }

    @Test
    void errnoMapsToOneLineReasons() {
        assertThat(NativeXenBackend.reason("xendevicemodel_open", 2)).isEqualTo("Xen not available (not a dom0)");
        assertThat(NativeXenBackend.reason("xendevicemodel_open", 13)).startsWith("Xen present but xendevicemodel_open was refused (EACCES)");
        assertThat(NativeXenBackend.reason("xenforeignmemory_open", 19)).isEqualTo("Xen not available (xenforeignmemory_open: ENODEV)");
    }

    private record Run(int exit, String stdout, String stderr) {}

    private static Run child(String mode) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xshare:auto",
                "-cp", classpath, ProbeMain.class.getName()));
        if (!mode.isEmpty()) {
            command.add(mode);
        }
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        byte[] out = process.getInputStream().readAllBytes();
        byte[] err = process.getErrorStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("child JVM did not exit");
        }
        return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void thePluginsProbeLeavesStderrEmpty() throws Exception {
        assumeOffXenWithLibraries();
        Run run = child("");
        assertThat(run.exit()).as(run.stderr()).isZero();
        assertThat(run.stdout()).isEqualTo("Xen not available (not a dom0)" + System.lineSeparator());
        assertThat(run.stderr()).isEmpty();
    }

    @Test
    void withoutTheQuietLoggerTheLibraryWouldPrint() throws Exception {
        assumeOffXenWithLibraries();
        Run run = child("noisy");
        assertThat(run.exit()).as(run.stderr()).isZero();
        assertThat(run.stdout().trim()).isEqualTo("NULL errno 2");
        assertThat(run.stderr()).contains("xencall: error: Could not obtain handle on privileged command interface");
    }
}
