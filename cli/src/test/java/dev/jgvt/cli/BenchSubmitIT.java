package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code gvt bench submit}: both paths run, every mediated submission is checked, the ratio is printed. */
final class BenchSubmitIT {
    @Test
    void printsTheRatioOfMediatedToDirectSubmissions() {
        CliRun run = CliRun.of("bench", "submit", "--rounds", "3", "--per-round", "40", "--warmup", "0",
                "--plugins-dir", Distribution.home().resolve("plugins").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).containsPattern("(?m)^submit_ratio=\\d+\\.\\d{4}$");
        assertThat(run.out()).containsPattern("(?m)^submit_ratio_busy=\\d+\\.\\d{4}$");
        assertThat(run.out()).containsPattern("(?m)^tiny: fill=64x64 mediated_per_s=\\d+ direct_per_s=\\d+ direct_us_per_workload=\\d+\\.\\d"
                + " mediated_gpu_us_per_workload=\\d+\\.\\d direct_gpu_us_per_workload=\\d+\\.\\d"
                + " mediation_us_per_submission=\\d+\\.\\d");
        assertThat(run.out()).containsPattern("(?m)^busy: fill=(\\d+)x\\1 mediated_per_s=\\d+");
        assertThat(run.out()).containsPattern("(?m)^elsp_to_msi_us p50=\\d+\\.\\d p90=\\d+\\.\\d p99=\\d+\\.\\d .* n=120 ");
        assertThat(run.out()).containsPattern("(?m)^eventfd_round_trip_us p50=\\d+\\.\\d .* n=300 ");
        assertThat(run.out()).containsPattern("(?m)^submit_ratio_cpu=\\d+\\.\\d{4} submit_ratio_busy_cpu=\\d+\\.\\d{4} ");
        assertThat(run.out()).containsPattern("(?m)^latency_ratio=\\d+\\.\\d\\d");
        assertThat(run.out()).containsPattern("(?m)^starts inline=\\d+ dispatched=\\d+ handoffs=\\d+$");
        assertThat(run.out()).contains("rounds=3 per_round=40");
    }

    @Test
    void badOptionsAreRejectedWithOneLine() {
        CliRun run = CliRun.of("bench", "submit", "--rounds", "0",
                "--plugins-dir", Distribution.home().resolve("plugins").toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--rounds and --per-round must be at least 1");
    }
}
