package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.exec.GpuScheduler;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.guest.SubmitLoop;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.InProcessGuest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Submission without idle wake-ups, end to end through the fake plugin: a guest whose vGPU owns an idle GPU sees
 * the context-switch MSI of its workload arrive during its own ELSP write — the workload was prepared, executed on
 * the software GPU and completed on the trapping thread, which also signalled the MSI — and no dispatcher ran it.
 */
final class InlineSubmissionIT {
    private static final long ELSP = Engine.BCS.mmioBase() + 0x230;
    private static final int SUBMISSIONS = 50;

    @Test
    void anIdleOwnersWorkloadCompletesAndSignalsItsMsiWithinTheElspWrite() throws InterruptedException {
        try (SimGpu gpu = new SimGpu(SimGpuConfig.GEN9);
                Gvt gvt = Gvt.start(GvtConfig.of(Distribution.home().resolve("plugins")), gpu)) {
            int id = gvt.vgpus().create("GVTg_V5_4").id();
            AttachedVgpu attached = gvt.attach(id, "fake", new AttachRequest.InProcess("inline", 64L << 20));
            CountingPlatform platform = new CountingPlatform(attached.inProcessGuest().orElseThrow());
            SubmitLoop guest = new SubmitLoop(platform, 0);
            GpuScheduler.Starts before = gvt.workloadStarts();
            for (int i = 0; i < SUBMISSIONS; i++) {
                assertThat(guest.submitOnce(Duration.ofSeconds(10))).as("%s", guest.errors()).isTrue();
            }
            GpuScheduler.Starts after = gvt.workloadStarts();
            assertThat(platform.msiDuringElsp).as("submissions whose MSI arrived during the ELSP write").isEqualTo(SUBMISSIONS);
            assertThat(after.inline() - before.inline()).isEqualTo(SUBMISSIONS);
            assertThat(after.dispatched() - before.dispatched()).isZero();
            assertThat(gvt.stats(id).orElseThrow().exec().completed()).isEqualTo(SUBMISSIONS);
        }
    }

    /** Counts ELSP writes during which the guest's MSI count rose. */
    private static final class CountingPlatform extends InProcessPlatform {
        int msiDuringElsp;

        CountingPlatform(InProcessGuest guest) {
            super(guest);
        }

        @Override
        public void mmioWrite(int bar, long offset, int size, long value) {
            long before = msiCount();
            super.mmioWrite(bar, offset, size, value);
            if (offset == ELSP && msiCount() > before) {
                msiDuringElsp++;
            }
        }
    }
}
