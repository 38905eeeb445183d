package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's kernel and its unmodified i915 driver in QEMU (vfio-user-pci) on a jgvt vGPU, through
 * {@code gvt qemu}: the device as GVT-g presents it, i915's probe as {@code linux-guest/dmesg-allowlist.txt}
 * expects (outcome and every *ERROR* / WARNING line), a program of the shared Debian root run in the guest,
 * unknown register offsets, and a VMM killed in the middle of the probe. Skipped with a printed reason when
 * no QEMU can be had here, except under CI=true (see {@link LinuxGuest}).
 */
final class LinuxGuestIT {
    private static final String DEVICE = "0000:00:03.0";

    @TempDir
    Path dir;

    @Test
    void i915ProbesTheVgpuAsTheAllowlistExpectsAndAProgramOfTheSharedRootRuns() throws Exception {
        DmesgAllowlist allowlist = DmesgAllowlist.load();
        LinuxGuest.Boot boot = LinuxGuest.boot(dir, "probe", "--timeout", "300", "--share-root",
                "--script", tiledCheckScript().toString(),
                "cat /sys/bus/pci/devices/" + DEVICE + "/vendor /sys/bus/pci/devices/" + DEVICE + "/device /sys/bus/pci/devices/"
                        + DEVICE + "/class",
                "inroot lspci -nn -s 00:03.0", "ls /dev/dri",
                "inroot timeout -s KILL 60 " + WSIM + " -w '1.RCS.*.0.0,2.BCS.2000.0.1,T.-2,1.RCS.500.0.1' -r 2");
        JsonNode guest = boot.guest();
        assertThat(boot.summary().path("outcome").asText()).as(boot.describe()).isEqualTo("powered-off");
        assertThat(boot.exitCode()).as(boot.describe()).isZero();

        // the device as GVT-g presents it: 8086:1912, VGA class, BAR0 16 MiB 64-bit, BAR2 1 GiB 64-bit prefetchable
        assertThat(guest.path("device").path("id").asText()).isEqualTo("8086:1912");
        assertThat(guest.path("device").path("class").asText()).isEqualTo("0x030000");
        assertThat(bars(guest)).containsExactly("0 16777216 64bit", "2 1073741824 64bit pref");
        assertThat(boot.console()).contains("0x8086\n0x1912\n0x030000");
        assertThat(guest.path("gvtDetected").asBoolean()).as("Virtual GPU for Intel GVT-g detected").isTrue();

        // i915's probe: the outcome the allowlist names, and no dmesg problem it does not list
        if (allowlist.probeSucceeds()) {
            assertThat(guest.path("i915Initialized").asBoolean()).as("[drm] Initialized i915").isTrue();
            assertThat(guest.path("i915Wedged").isNumber()).as("i915_wedged in debugfs").isTrue();
            assertThat(guest.path("i915Wedged").asInt()).as("i915_wedged").isZero();
            assertThat(boot.host().path("failsafe").asBoolean()).isFalse();
            // i915's own requests ran through the execlist emulation, were scanned, executed and completed
            assertThat(boot.host().path("workloadsCompleted").asLong()).as("i915's workloads").isGreaterThanOrEqualTo(4);
            assertThat(boot.host().path("rejectedWorkloads").asLong()).isZero();
            assertThat(boot.host().path("hungWorkloads").asLong()).isZero();
            assertThat(boot.host().path("msiSignals").asLong()).isPositive();
            assertThat(guest.path("commands").path("03").asInt()).isZero();
            assertThat(boot.console()).contains("card0").contains("renderD128");
            assertThat(guest.path("probeSeconds").isNumber()).as("insmod to Initialized, guest time").isTrue();
            System.out.println("LinuxGuestIT: insmod to Initialized " + guest.path("probeSeconds") + " s, probe "
                    + guest.path("deviceProbeSeconds") + " s of guest time; during insmod " + boot.host().path("probe"));
        } else {
            assertThat(guest.path("i915Initialized").asBoolean()).as("the allowlist says the probe fails; it succeeded: "
                    + "change 'probe fails' to 'probe succeeds' in " + DmesgAllowlist.RESOURCE).isFalse();
            assertThat(guest.path("marks").has("insmod-i915-end")).as("insmod returned").isTrue();
        }
        DmesgAllowlist.Verdict verdict = allowlist.check(strings(guest.path("i915Errors")), strings(guest.path("warnings")));
        assertThat(verdict.clean()).as("dmesg against %s:%s", DmesgAllowlist.RESOURCE, verdict).isTrue();
        assertThat(guest.path("i915ErrorCount").asInt()).isEqualTo(guest.path("i915Errors").size());

        // the host saw the probe: BAR0 traps between the insmod marks
        JsonNode probe = boot.host().path("probe");
        assertThat(probe.path("accesses").path("bar0Reads").asLong()).as("BAR0 reads during the probe").isPositive();
        assertThat(probe.path("serverShare").asDouble()).isBetween(0.0, 1.0);

        // a program of the Debian root, over 9p, sees the device
        assertThat(guest.path("commands").path("02").asInt()).as(boot.console()).isZero();
        assertThat(boot.console()).containsPattern("00:03\\.0 VGA compatible controller \\[0300\\]: .*\\[8086:1912\\]");

        // spinners (decision 0014): gem_wsim keeps RCS busy with a batch that loops until the CPU ends it (an
        // unbound step terminated from the CPU) and with one timed by the engine's timestamp, while BCS works
        if (allowlist.probeSucceeds()) {
            assertThat(guest.path("commands").path("04").asInt()).as("gem_wsim's exit status: %s", boot.console()).isZero();
            assertThat(boot.console()).containsPattern("s elapsed \\([0-9.]+ workloads/s\\)");
        }

        // tiled memory through the i915 uAPI (linux-guest/tiled-check.py, about 6 s of guest time): X and Y objects
        // written through fenced GTT mappings land tiled in their pages; blits read and write them tiled
        if (allowlist.probeSucceeds()) {
            assertThat(boot.console()).as(boot.console()).contains("TILED-CHECK X set_tiling mode 1 swizzle 0")
                    .contains("TILED-CHECK Y GTT mapping of the fast copy reads the picture ok").contains("TILED-CHECK all ok");
        }
    }

    /** A guest script that writes {@code tiled-check.py} into the shared root's /tmp and runs it there. */
    private Path tiledCheckScript() throws Exception {
        String python;
        try (var in = LinuxGuestIT.class.getResourceAsStream("/linux-guest/tiled-check.py")) {
            python = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        Path script = dir.resolve("tiled-check.sh");
        Files.writeString(script, "cat > /mnt/root/tmp/tiled-check.py <<'PYEOF'\n" + python + "PYEOF\n"
                + "inroot python3 /tmp/tiled-check.py\n");
        return script;
    }

    private static final String WSIM = "/usr/libexec/igt-gpu-tools/benchmarks/gem_wsim";

    @Test
    void unknownOffsetsAreHandledWithoutAnErrorToTheVmmAndLoggedOncePerOffset() throws Exception {
        // no driver binds the device, so /dev/mem may reach BAR0; 0x1ff000 and 0x1fe004 are offsets no table knows
        String access = "b=$(head -1 /sys/bus/pci/devices/" + DEVICE + "/resource | cut -d' ' -f1); "
                + "echo 1 > /sys/bus/pci/devices/" + DEVICE + "/enable; "
                + "for i in 1 2 3; do devmem $((b + 0x1ff000)) 32; devmem $((b + 0x1ff000)) 32 0x12345678; "
                + "devmem $((b + 0x1fe004)) 32 0xabcd; done; "
                + "echo pvinfo=$(devmem $((b + 0x78000)) 32)";
        LinuxGuest.Boot boot = LinuxGuest.boot(dir, "unknown", "--timeout", "300", "--no-i915", access);
        assertThat(boot.exitCode()).as(boot.describe()).isZero();
        assertThat(boot.guest().path("commands").path("01").asInt()).isZero();
        assertThat(boot.console()).as("the device still answers: PVINFO magic").contains("pvinfo=0x76544776");
        assertThat(strings(boot.summary().path("qemu").path("stderr")))
                .as("QEMU saw no failed access").allMatch(l -> l.contains("Could not enable error recovery"));
        long lines = boot.err().lines().filter(l -> l.contains("0x1ff000")).count();
        assertThat(lines).as("one log line per offset (or one per direction), not one per access:\n" + boot.err()).isBetween(1L, 2L);
        assertThat(boot.host().path("failsafe").asBoolean()).isFalse();
    }

    @Test
    void aVmmKilledInTheMiddleOfTheProbeLeavesTheServerReadyForTheNextOne() throws Exception {
        Path socket = dir.resolve("vgpu.sock");
        Path serveOut = dir.resolve("serve.out");
        Process serve = new ProcessBuilder(Distribution.home().resolve("bin/gvt").toString(), "serve", "--socket", socket.toString())
                .redirectOutput(serveOut.toFile()).redirectError(dir.resolve("serve.err").toFile()).start();
        try {
            awaitText(serve, serveOut, "Stop with", 60);
            Path console = dir.resolve("first.console");
            Process first = LinuxGuest.start(dir, "first", "--connect", socket.toString(), "--out", dir.resolve("first").toString(),
                    "--console", console.toString(), "--timeout", "300");
            try {
                // the probe has begun once i915 touches BAR0 (the server logs its first unhandled register) or says it
                // detected the vGPU; kill QEMU at once. Today's probe fails within ~40 ms of guest time, so the kill
                // may land just after it; once the probe runs its course (seconds) the kill lands inside it.
                awaitText(first, console, "jgvt-mark: insmod-i915-begin", 600);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (!LinuxGuest.read(dir.resolve("serve.err")).contains("at BAR0 ")
                        && !LinuxGuest.read(console).contains("Virtual GPU for Intel GVT-g detected")) {
                    assertThat(System.nanoTime()).as("i915 did not reach the device").isLessThan(deadline);
                    assertThat(first.isAlive()).as("gvt qemu exited before i915 reached the device").isTrue();
                    Thread.sleep(2);
                }
                String pid = LinuxGuest.read(dir.resolve("first.out")).lines().filter(l -> l.startsWith("gvt qemu: QEMU started, pid "))
                        .findFirst().orElseThrow().substring("gvt qemu: QEMU started, pid ".length()).strip();
                assertThat(ProcessHandle.of(Long.parseLong(pid)).orElseThrow().destroyForcibly()).isTrue(); // SIGKILL mid-probe
                LinuxGuest.Boot killed = LinuxGuest.finish(first, dir, "first", dir.resolve("first"));
                assertThat(killed.summary().path("outcome").asText()).as(killed.describe()).isEqualTo("qemu-exited");
                assertThat(killed.exitCode()).isEqualTo(1);
                assertThat(killed.guest().path("exitStatus").isNull()).as("killed before the guest finished").isTrue();
                System.out.println("LinuxGuestIT: QEMU killed " + (killed.guest().path("marks").has("insmod-i915-end")
                        ? "just after insmod i915 returned" : "while insmod i915 ran"));
            } finally {
                first.destroyForcibly();
            }
            assertThat(serve.isAlive()).as("gvt serve survives a VMM killed mid-probe").isTrue();

            LinuxGuest.Boot second = LinuxGuest.boot(dir, "second", "--connect", socket.toString(), "--timeout", "300");
            assertThat(second.exitCode()).as(second.describe()).isZero();
            assertThat(second.guest().path("gvtDetected").asBoolean()).isTrue();
            assertThat(second.guest().path("i915Initialized").asBoolean()).isEqualTo(DmesgAllowlist.load().probeSucceeds());
            assertThat(second.guest().path("marks").has("insmod-i915-end")).isTrue();
        } finally {
            serve.destroy();
            assertThat(serve.waitFor(30, TimeUnit.SECONDS)).as("gvt serve stops on SIGTERM").isTrue();
        }
        assertThat(LinuxGuest.read(serveOut)).contains("gvt serve: stopped");
    }

    @Test
    void sigtermStopsQemuAndTheServerAndStillWritesTheSummary() throws Exception {
        Path console = dir.resolve("term.console");
        Process p = LinuxGuest.start(dir, "term", "--out", dir.resolve("term").toString(), "--console", console.toString(),
                "--timeout", "300", "sleep 600");
        try {
            awaitText(p, console, "jgvt-cmd-begin 01", 600);
            String pid = LinuxGuest.read(dir.resolve("term.out")).lines().filter(l -> l.startsWith("gvt qemu: QEMU started, pid "))
                    .findFirst().orElseThrow().substring("gvt qemu: QEMU started, pid ".length()).strip();
            p.destroy(); // SIGTERM
            LinuxGuest.Boot stopped = LinuxGuest.finish(p, dir, "term", dir.resolve("term"));
            assertThat(stopped.exitCode()).as(stopped.describe()).isEqualTo(143);
            assertThat(stopped.summary().path("outcome").asText()).isEqualTo("stopped");
            assertThat(ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false)).as("QEMU is gone").isFalse();
            assertThat(stopped.guest().path("gvtDetected").asBoolean()).isTrue();
        } finally {
            p.destroyForcibly();
        }
    }

    private static void awaitText(Process p, Path file, String text, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && LinuxGuest.read(file).contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                LinuxGuest.skipOrFailWithoutQemu(p.exitValue(), LinuxGuest.read(Path.of(file.toString().replaceFirst("\\.[a-z]+$", ".err"))));
                throw new AssertionError("exited " + p.exitValue() + " before '" + text + "' appeared in " + file + ":\n" + LinuxGuest.read(file));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("'" + text + "' did not appear in " + file + " within " + seconds + " s:\n" + LinuxGuest.read(file));
    }

    private static List<String> bars(JsonNode guest) {
        List<String> bars = new ArrayList<>();
        guest.path("device").path("bars").forEach(b -> bars.add(b.path("index").asInt() + " " + b.path("size").asLong() + " "
                + b.path("flags").asText()));
        return bars;
    }

    private static List<String> strings(JsonNode array) {
        List<String> list = new ArrayList<>();
        array.forEach(n -> list.add(n.asText()));
        return list;
    }
}
