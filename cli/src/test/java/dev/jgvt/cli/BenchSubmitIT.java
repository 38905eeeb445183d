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
        assertThat(run.out()).containsPattern("mediated_per_s=\\d+ direct_per_s=\\d+ mediation_us_per_submission=\\d+\\.\\d");
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
