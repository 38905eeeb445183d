package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.engine.PlaneCapture;
import dev.jgvt.core.engine.VgpuStats;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.guest.GuestDriver;
import dev.jgvt.guest.GuestEngine;
import dev.jgvt.guest.GuestPlatform;
import dev.jgvt.guest.Picture;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * guest-sim's driver on vGPUs through the fake plugin, with command submission end to end: every frame is
 * drawn by the blitter (privileged GGTT and PPGTT batches), the render engine runs two contexts per ELSP
 * submission (one through a PPGTT whose entries the guest keeps rewriting), the video engines store values;
 * the guest checks CSB sequences, stored values and blitted pixels, the host scans the display out.
 */
final class GuestWorkloadsIT {
    private static final long RAM = 64L << 20;
    private static final int FRAMES = 6;
    private static final int WIDTH = 160;
    private static final int HEIGHT = 120;

    private final SimGpu gpu = new SimGpu(SimGpuConfig.GEN9);

    @AfterEach
    void closeGpu() {
        gpu.close();
    }

    @Test
    void twoGuestsDrawWithTheBlitterAndStoreOnEveryEngineAndSeeExactlyWhatTheySubmitted() throws Exception {
        try (Gvt gvt = Gvt.start(GvtConfig.of(Distribution.home().resolve("plugins")), gpu)) {
            List<Vgpu> vgpus = List.of(gvt.vgpus().create("GVTg_V5_8"), gvt.vgpus().create("GVTg_V5_8"));
            List<GuestDriver.Report> reports = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (Vgpu vgpu : vgpus) {
                AttachedVgpu attached = gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("w" + vgpu.id(), RAM));
                GuestDriver driver = new GuestDriver(new InProcessPlatform(attached.inProcessGuest().orElseThrow()),
                        vgpu.id(), WIDTH, HEIGHT);
                reports.add(null);
                int slot = reports.size() - 1;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        reports.set(slot, driver.run(FRAMES, () -> true, f -> { }));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join(120_000);
                assertThat(thread.isAlive()).as("a guest did not finish within 120 s").isFalse();
            }
            for (int i = 0; i < vgpus.size(); i++) {
                Vgpu vgpu = vgpus.get(i);
                GuestDriver.Report report = reports.get(i);
                assertThat(report.errors()).as("vGPU %d", vgpu.id()).isEmpty();
                assertThat(report.frames()).isEqualTo(FRAMES);
                assertThat(report.flipsCompleted()).isEqualTo(FRAMES);
                assertThat(report.submissions()).as("one ELSP write per engine per frame").isEqualTo(4L * FRAMES);
                assertThat(report.completions()).isEqualTo(Map.of(GuestEngine.RCS, 2L * FRAMES, GuestEngine.BCS,
                        (long) FRAMES, GuestEngine.VCS0, (long) FRAMES, GuestEngine.VECS, (long) FRAMES));
                assertThat(report.valuesChecked()).isGreaterThanOrEqualTo(50L * FRAMES);
                assertThat(report.valueMismatches()).isZero();
                assertThat(report.pixelsChecked()).isEqualTo((long) FRAMES * WIDTH * HEIGHT);
                assertThat(report.pixelMismatches()).isZero();
                assertThat(report.engineResets()).isZero();

                PlaneCapture capture = gvt.capturePrimaryPlane(vgpu.id()).orElseThrow();
                for (int y = 0; y < HEIGHT; y++) {
                    for (int x = 0; x < WIDTH; x++) {
                        assertThat(capture.pixel(x, y)).as("vGPU %d pixel (%d,%d)", vgpu.id(), x, y)
                                .isEqualTo(Picture.pixel(vgpu.id(), FRAMES - 1, WIDTH, HEIGHT, x, y));
                    }
                }
                VgpuStats stats = gvt.stats(vgpu.id()).orElseThrow();
                assertThat(stats.failsafe()).isFalse();
                assertThat(stats.exec().completed()).isEqualTo(5L * FRAMES);
                assertThat(stats.exec().rejected()).isZero();
                assertThat(stats.exec().hung()).isZero();
                assertThat(stats.exec().failed()).isZero();
                assertThat(stats.exec().droppedSubmissions()).isZero();
                assertThat(stats.exec().hwspMisses()).isZero();
                assertThat(stats.exec().bytesScanned()).isPositive();
            }
        }
    }

    /**
     * The first ELSP submission to VCS0 never reaches the device (dropped on the way): the guest times out,
     * reports it, resets the engine through GDRST on the real device model, enables execlists again, and every
     * later submission on that engine completes and is checked.
     */
    @Test
    void aSubmissionThatNeverArrivesIsReportedAndTheGuestRecoversTheEngineWithAReset() throws Exception {
        try (Gvt gvt = Gvt.start(GvtConfig.of(Distribution.home().resolve("plugins")), gpu)) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_8");
            AttachedVgpu attached = gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("lossy", RAM));
            int[] dropped = {0};
            GuestPlatform lossy = new InProcessPlatform(attached.inProcessGuest().orElseThrow()) {
                @Override
                public void mmioWrite(int bar, long offset, int size, long value) {
                    if (bar == GuestPlatform.BAR0 && offset == 0x12230 && dropped[0] < 4) {
                        dropped[0]++;
                        return;
                    }
                    super.mmioWrite(bar, offset, size, value);
                }
            };
            GuestDriver.Report report = new GuestDriver(lossy, vgpu.id(), 64, 48).run(3, () -> true, f -> { });

            assertThat(report.errors()).singleElement().asString()
                    .contains("frame 0: VCS0: frame 0 timed out waiting for its CSB events");
            assertThat(report.submissions()).isEqualTo(4L * 3);
            assertThat(report.engineResets()).isEqualTo(1);
            assertThat(report.completions()).containsEntry(GuestEngine.VCS0, 2L).containsEntry(GuestEngine.BCS, 3L);
            assertThat(report.valueMismatches()).isZero();
            assertThat(report.pixelMismatches()).isZero();
            VgpuStats stats = gvt.stats(vgpu.id()).orElseThrow();
            assertThat(stats.failsafe()).isFalse();
            assertThat(stats.exec().completed()).isEqualTo(5L * 3 - 1);
        }
    }
}
