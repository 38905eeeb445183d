package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The whole driver against a scripted device that answers submissions but executes nothing, or does not answer. */
final class GuestDriverTest {
    @Test
    void aDeviceThatNeverAnswersGivesTimeoutErrorsNotAHang() throws InterruptedException {
        ScriptedGpu gpu = new ScriptedGpu();
        gpu.mode = ScriptedGpu.Mode.NO_CSB;
        GuestDriver driver = new GuestDriver(gpu, 1, 32, 32, Duration.ofMillis(200), Duration.ofMillis(50));
        long start = System.nanoTime();
        GuestDriver.Report report = driver.run(4, () -> true, f -> { });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(report.frames()).isEqualTo(4);
        assertThat(report.submissions()).as("each engine is reset twice, then given up").isEqualTo(3 * 4);
        assertThat(report.completions().values()).containsOnly(0L);
        assertThat(report.errors()).filteredOn(e -> e.contains("timed out waiting for its CSB events")).hasSize(3 * 4);
        assertThat(report.errors()).filteredOn(e -> e.contains("not reset again after 2 resets")).hasSize(4);
        assertThat(gpu.resets).as("a full reset at load, then two per engine").hasSize(1 + 2 * 4).first().isEqualTo(1);
        assertThat(report.engineResets()).isEqualTo(2 * 4);
        assertThat(report.errors()).anyMatch(e -> e.contains("no flip-done interrupt"));
        assertThat(report.valuesChecked()).as("results of failed submissions are not checked").isZero();
    }

    @Test
    void aDeviceThatCompletesWithoutExecutingIsCaughtByTheValueAndPixelChecks() throws InterruptedException {
        ScriptedGpu gpu = new ScriptedGpu();
        GuestDriver driver = new GuestDriver(gpu, 2, 32, 24, Duration.ofSeconds(5), Duration.ofMillis(20));
        GuestDriver.Report report = driver.run(2, () -> true, f -> { });
        assertThat(report.submissions()).isEqualTo(8);
        assertThat(report.completions()).containsEntry(GuestEngine.RCS, 4L).containsEntry(GuestEngine.VECS, 2L);
        assertThat(report.valuesChecked()).isPositive();
        // every store is missing; only the checks that a value is NOT in a frame (at most one per frame) hold
        assertThat(report.valueMismatches()).isBetween(report.valuesChecked() - 2, report.valuesChecked());
        assertThat(report.pixelsChecked()).isEqualTo(2 * 32 * 24);
        assertThat(report.pixelMismatches()).isPositive();
        assertThat(report.errors()).anyMatch(e -> e.contains("MI_STORE_DATA_IMM (GGTT) stored 0x00000000"))
                .anyMatch(e -> e.contains("blitted pixels are wrong"));
    }

    @Test
    void aDriverResetsTheGpuWhenItLoadsSoStateFromAPreviousBootDoesNotMatter() throws InterruptedException {
        ScriptedGpu gpu = new ScriptedGpu();
        for (GuestEngine engine : GuestEngine.values()) {
            gpu.staleCsb(engine, 3 + engine.ordinal());
        }
        GuestDriver.Report report = new GuestDriver(gpu, 3, 32, 24, Duration.ofSeconds(5), Duration.ofMillis(20))
                .run(2, () -> true, f -> { });
        assertThat(gpu.resets).containsExactly(1);
        assertThat(report.errors()).noneMatch(e -> e.contains("CSB") || e.contains("timed out"));
        assertThat(report.completions()).containsEntry(GuestEngine.RCS, 4L).containsEntry(GuestEngine.BCS, 2L)
                .containsEntry(GuestEngine.VCS0, 2L).containsEntry(GuestEngine.VECS, 2L);
    }
}
