package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code gvt bench vfio-user}: the out-of-process client is compiled and run against the vGPU and the raw server. */
final class BenchVfioUserIT {
    @Test
    void printsBothPlacementsWithRatiosToRaw() {
        CliRun run = CliRun.of("bench", "vfio-user", "--rounds", "1", "--ops", "50",
                "--plugins-dir", Distribution.home().resolve("plugins").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).containsPattern("cpus=\\d+ serving_thread_tid=\\d+");
        assertThat(run.out()).contains("one CPU: client, serving thread and raw server on cpu 0");
        assertThat(run.out()).containsPattern("region_write_4B p50=\\d+\\.\\d+us p99=\\d+\\.\\d+us .* raw_36B_to_32B p50=\\d+\\.\\d+us"
                + " .* ratio p50=\\d+\\.\\d+ round_median=\\d+\\.\\d+ p99=\\d+\\.\\d+");
        assertThat(run.out()).containsPattern("region_read_4B +p50=\\d+\\.\\d+us .* raw_32B_to_36B p50=");
        assertThat(run.out()).containsPattern("load average at start: \\d+\\.\\d+");
        assertThat(run.out()).containsPattern("after \\d+ warm-up batches");
        assertThat(run.out()).containsPattern("cpu per op: region_write client=\\d+\\.\\d+us server=\\d+\\.\\d+us sum=\\d+\\.\\d+us"
                + " server_runs=\\d+\\.\\d+ \\| raw_36_32 client=");
        assertThat(run.out()).containsPattern("per request over the measured rounds: serving thread cpu=\\d+\\.\\d+us runs=\\d+\\.\\d+"
                + " blocked=\\d+\\.\\d+ preempted=\\d+\\.\\d+ \\| raw server cpu=");
        assertThat(run.out()).containsPattern("msi_delivery_us median=\\d+\\.\\d");
    }

    @Test
    void withoutACompilerItSaysWhatIsMissing() {
        CliRun run = CliRun.of("bench", "vfio-user", "--cc", "no-such-cc", "--rounds", "1", "--ops", "10",
                "--plugins-dir", Distribution.home().resolve("plugins").toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("the out-of-process client needs a C compiler; 'no-such-cc' cannot be run");
    }
}
