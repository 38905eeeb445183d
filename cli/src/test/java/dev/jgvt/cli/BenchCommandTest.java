package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

final class BenchCommandTest {
    @Test
    void benchScanPrintsTheEfficiencyLine() {
        CliRun run = CliRun.of("bench", "scan", "--size", "4096", "--rounds", "1");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).containsPattern("(?m)^scan_efficiency=\\d+\\.\\d{3}$");
        assertThat(run.out()).containsPattern("(?m)^walk_floor_ratio=\\d+\\.\\d{3}$");
        assertThat(run.out()).contains("size=4096 engine=rcs rounds=1");
    }

    @Test
    void benchWithoutSubcommandShowsUsage() {
        CliRun run = CliRun.of("bench");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("scan");
    }
}
