package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.cmd.ScanDumpFile;
import dev.jgvt.core.cmd.ScanDumpRecord;
import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.guest.GuestDriver;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The diagnostic scan of non-privileged batches on the live path ({@code scan.ppgtt-batches}, the engine setting of
 * {@code --scan-ppgtt-batches}): guest-sim's driver draws with the blitter from PPGTT batches on odd frames;
 * with the diagnostic on every engine those batches are read through the workload's PPGTT (the guest's own page
 * tables), scanned and dumped, and the guest sees exactly what it sees without the diagnostic, also where the
 * scan rejects a batch.
 */
final class ScanPpgttBatchesIT {
    private final SimGpu gpu = new SimGpu(SimGpuConfig.GEN9);

    @TempDir
    Path dir;

    @AfterEach
    void closeGpu() {
        gpu.close();
    }

    @Test
    void ppgttBatchesAreScannedAndDumpedWhileTheGuestRunsAsWithoutTheDiagnostic() throws Exception {
        Path dump = dir.resolve("scan.dump");
        GvtConfig config = new GvtConfig(Distribution.home().resolve("plugins"), Map.of(
                GvtConfig.SCAN_PPGTT_BATCHES, "all", GvtConfig.SCAN_DUMP, dump.toString()));
        GuestDriver.Report report;
        try (Gvt gvt = Gvt.start(config, gpu)) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_8");
            AttachedVgpu attached = gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("p" + vgpu.id(), 64L << 20));
            GuestDriver driver = new GuestDriver(new InProcessPlatform(attached.inProcessGuest().orElseThrow()),
                    vgpu.id(), 160, 120);
            report = driver.run(4, () -> true, f -> { });
        }
        assertThat(report.errors()).isEmpty();
        assertThat(report.pixelMismatches()).isZero();
        assertThat(report.valueMismatches()).isZero();
        assertThat(report.engineResets()).isZero();
        List<ScanDumpRecord> records;
        try (InputStream in = Files.newInputStream(dump)) {
            records = ScanDumpFile.read(in);
        }
        List<ScanDumpRecord> ppgtt = records.stream().filter(ScanDumpRecord::ppgtt).toList();
        assertThat(ppgtt).as("PPGTT batch records").isNotEmpty();
        assertThat(ppgtt).allSatisfy(r -> assertThat(r.privileged()).isFalse());
        assertThat(ppgtt).filteredOn(r -> r.engine() == Engine.BCS).isNotEmpty().allSatisfy(r -> {
            assertThat(r.verdict()).isEqualTo(ScanDumpRecord.ACCEPTED);
            assertThat(firstDword(r.bytes()) >>> 29).as("a blitter command first (the guest's bytes, read through its PPGTT)")
                    .isEqualTo(2);
        });
        // guest-sim's render batch stores GPR0 with MI_STORE_REGISTER_MEM, which GVT-g's rules (LRM/SRM of 0xB118
        // and 0x21F0 only) reject: reported in the dump, not held against the workload - the guest checked every
        // value above
        assertThat(ppgtt).filteredOn(r -> r.engine() == Engine.RCS).isNotEmpty()
                .allSatisfy(r -> assertThat(r.verdict()).isEqualTo("rejected:register-not-allowed"));
    }

    private static int firstDword(byte[] b) {
        return (b[0] & 0xFF) | (b[1] & 0xFF) << 8 | (b[2] & 0xFF) << 16 | (b[3] & 0xFF) << 24;
    }
}
