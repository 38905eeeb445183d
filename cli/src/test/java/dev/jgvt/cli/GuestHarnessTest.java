package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.spi.GvtException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pieces of gvt qemu that need no QEMU: kernel lookup, module order, the cpio writer, the console parser, bad options. */
final class GuestHarnessTest {
    @TempDir
    Path dir;

    private Path fakeRoot() throws Exception {
        Path modules = dir.resolve("lib/modules/6.12.9-1-amd64");
        Files.createDirectories(modules.resolve("kernel/d"));
        Files.createDirectories(dir.resolve("lib/modules/6.12.117-amd64"));
        Files.createDirectories(dir.resolve("boot"));
        Files.writeString(dir.resolve("boot/vmlinuz-6.12.9-1-amd64"), "old");
        Files.writeString(dir.resolve("boot/vmlinuz-6.12.117-amd64"), "new");
        Files.writeString(dir.resolve("boot/vmlinuz-6.13.0-amd64"), "no modules");
        Files.writeString(dir.resolve("lib/modules/6.12.117-amd64/modules.dep"), """
                kernel/d/i915.ko.xz: kernel/d/drm_kms_helper.ko.xz kernel/d/drm.ko.xz kernel/d/video.ko.xz
                kernel/d/drm_kms_helper.ko.xz: kernel/d/drm.ko.xz
                kernel/d/drm.ko.xz:
                kernel/d/video.ko.xz: kernel/d/wmi.ko.xz
                kernel/d/wmi.ko.xz:
                kernel/d/rc-core.ko.xz:
                """);
        Files.writeString(modules.resolve("modules.dep"), "");
        return dir;
    }

    @Test
    void theNewestKernelWithModulesIsChosenAndDependenciesComeFirst() throws Exception {
        GuestKernel kernel = GuestKernel.find(fakeRoot());
        assertThat(kernel.version()).isEqualTo("6.12.117-amd64");
        List<String> order = kernel.withDependencies("i915");
        assertThat(order.getLast()).isEqualTo("kernel/d/i915.ko.xz");
        assertThat(order).containsExactlyInAnyOrder("kernel/d/i915.ko.xz", "kernel/d/drm_kms_helper.ko.xz", "kernel/d/drm.ko.xz",
                "kernel/d/video.ko.xz", "kernel/d/wmi.ko.xz");
        assertThat(order.indexOf("kernel/d/drm.ko.xz")).isLessThan(order.indexOf("kernel/d/drm_kms_helper.ko.xz"));
        assertThat(order.indexOf("kernel/d/wmi.ko.xz")).isLessThan(order.indexOf("kernel/d/video.ko.xz"));
        assertThat(kernel.withDependencies("rc_core")).containsExactly("kernel/d/rc-core.ko.xz");
        assertThatThrownBy(() -> kernel.withDependencies("nouveau")).isInstanceOf(GvtException.class).hasMessageContaining("no module nouveau");
    }

    @Test
    void aRootWithoutAKernelIsNamed() {
        assertThatThrownBy(() -> GuestKernel.find(dir)).isInstanceOf(GvtException.class).hasMessageContaining("no kernel in " + dir);
    }

    @Test
    void theCpioWriterWritesNewcEntriesAlignedToFourBytesAndATrailer() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Initramfs.Cpio cpio = new Initramfs.Cpio(bytes);
        cpio.directory("bin");
        cpio.file("bin/x", 0100755, "hello".getBytes(StandardCharsets.UTF_8));
        cpio.symlink("bin/sh", "x");
        cpio.device("dev/console", 020600, 5, 1);
        cpio.trailer();
        byte[] a = bytes.toByteArray();
        assertThat(a.length % 4).isZero();
        List<String> names = new ArrayList<>();
        int at = 0;
        while (true) {
            String header = new String(a, at, 110, StandardCharsets.US_ASCII);
            assertThat(header).startsWith("070701");
            int size = Integer.parseInt(header.substring(54, 62), 16);
            int nameSize = Integer.parseInt(header.substring(94, 102), 16);
            String name = new String(a, at + 110, nameSize - 1, StandardCharsets.UTF_8);
            names.add(name + ":" + Integer.toOctalString(Integer.parseInt(header.substring(14, 22), 16)) + ":" + size);
            if (name.equals("bin/x")) {
                int data = (at + 110 + nameSize + 3) & ~3;
                assertThat(new String(a, data, size, StandardCharsets.UTF_8)).isEqualTo("hello");
            }
            if (name.equals("dev/console")) {
                assertThat(Integer.parseInt(header.substring(78, 86), 16)).as("rdevmajor").isEqualTo(5);
            }
            at = (((at + 110 + nameSize + 3) & ~3) + size + 3) & ~3;
            if (name.equals("TRAILER!!!")) {
                break;
            }
        }
        assertThat(at).isEqualTo(a.length);
        assertThat(names).containsExactly("bin:40755:0", "bin/x:100755:5", "bin/sh:120777:1", "dev/console:20600:0", "TRAILER!!!:0:0");
    }

    @Test
    void theConsoleParserFindsMarksTheDeviceAndTheProblemsInTheDmesgDump() {
        List<String> marks = new ArrayList<>();
        GuestLog log = new GuestLog((name, arg) -> marks.add(name));
        for (String line : """
                [    0.80] pci 0000:00:03.0: [8086:1912] type 00 class 0x030000 conventional PCI endpoint
                [    2.50] jgvt-mark: insmod-i915-begin
                [    4.00] i915 0000:00:03.0: [drm] *ERROR* on the console only
                jgvt-cmd-begin 01
                jgvt-cmd-end 01 status=3
                jgvt-wedged: 0
                jgvt-dmesg-begin
                [    0.80] pci 0000:00:03.0: [8086:1912] type 00 class 0x030000 conventional PCI endpoint
                [    0.81] pci 0000:00:03.0: BAR 0 [mem 0xff00000000-0xff00ffffff 64bit]
                [    0.82] pci 0000:00:03.0: BAR 2 [mem 0xff40000000-0xff7fffffff 64bit pref]
                [    2.50] jgvt-mark: insmod-i915-begin
                [    2.90] i915 0000:00:03.0: [drm] Found SKYLAKE (device ID 1912) display version 9.00 stepping G0
                [    3.00] i915 0000:00:03.0: [drm] Virtual GPU for Intel GVT-g detected.
                [    3.10] i915 0000:00:03.0: [drm] *ERROR* GT0: rcs'0 reset request timed out
                [    3.20] WARNING: CPU: 0 PID: 1 at drivers/gpu/drm/i915/gt/intel_sseu.c:41 f+0x1/0x2 [i915]
                [    4.75] [drm] Initialized i915 1.6.0 for 0000:00:03.0 on minor 0
                jgvt-dmesg-end
                jgvt-exit status=3
                """.lines().toList()) {
            log.accept(line);
        }
        assertThat(marks).containsExactly("insmod-i915-begin");
        GuestLog.Report r = log.report();
        assertThat(r.dmesgComplete()).isTrue();
        assertThat(r.exitStatus()).isEqualTo(3);
        assertThat(r.commandStatus()).containsEntry("01", 3);
        assertThat(r.wedged()).isZero();
        assertThat(r.deviceId()).isEqualTo("8086:1912");
        assertThat(r.deviceClass()).isEqualTo("0x030000");
        assertThat(r.bars()).extracting(b -> b.get("size")).containsExactly(16L << 20, 1L << 30);
        assertThat(r.gvtDetected()).isTrue();
        assertThat(r.i915Initialized()).isTrue();
        assertThat(r.i915Errors()).containsExactly("i915 0000:00:03.0: [drm] *ERROR* GT0: rcs'0 reset request timed out");
        assertThat(r.warnings()).hasSize(1);
        assertThat(r.probeSeconds()).isEqualTo(2.25);
        assertThat(r.deviceProbeSeconds()).isEqualTo(1.85);
        assertThat(log.panic()).isNull();
        log.accept("[    0.020000] Kernel panic - not syncing: IO-APIC + timer doesn't work!");
        assertThat(log.panic()).isEqualTo("Kernel panic - not syncing: IO-APIC + timer doesn't work!");
    }

    @Test
    void badOptionsAreOneLineAndExitCode2() throws Exception {
        assertThat(CliRun.of("qemu", "--timeout", "0").err()).contains("--timeout must be in (0, 86400]");
        assertThat(CliRun.of("qemu", "--memory", "64").exitCode()).isEqualTo(2);
        CliRun notQemu = CliRun.of("qemu", "--qemu", "/bin/true", "--out", dir.resolve("o").toString());
        assertThat(notQemu.exitCode()).isEqualTo(2);
        assertThat(notQemu.err().strip()).contains("--qemu /bin/true has no vfio-user-pci device").doesNotContain("\n");
        CliRun missing = CliRun.of("qemu", "--qemu", dir.resolve("nope").toString(), "--out", dir.resolve("o").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("is not an executable file");
        CliRun noSocket = CliRun.of("qemu", "--connect", dir.resolve("none.sock").toString(), "--out", dir.resolve("o").toString());
        assertThat(noSocket.exitCode()).isEqualTo(2);
        assertThat(noSocket.err()).contains("does not exist (start gvt serve first)");
        CliRun noScript = CliRun.of("qemu", "--script", dir.resolve("none.sh").toString(), "--out", dir.resolve("o").toString());
        assertThat(noScript.exitCode()).isEqualTo(2);
    }
}
