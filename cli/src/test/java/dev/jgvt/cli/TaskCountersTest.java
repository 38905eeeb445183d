package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@link TaskCounters}: a thread's scheduler counters from /proc, their difference, the per-request line. */
final class TaskCountersTest {
    @Test
    void theCallingThreadsRunTimeGrowsWithWorkAndASleepIsAVoluntarySwitch() throws Exception {
        long pid = ProcessHandle.current().pid();
        // /proc/thread-self links to <pid>/task/<tid> of the calling thread
        long tid = Long.parseLong(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
        TaskCounters before = TaskCounters.of(pid, tid);
        long spin = System.nanoTime() + 20_000_000;
        long x = 0;
        while (System.nanoTime() < spin) {
            x++;
        }
        Thread.sleep(5);
        TaskCounters delta = TaskCounters.of(pid, tid).minus(before);
        assertThat(x).isPositive();
        assertThat(delta.runNanos()).isGreaterThanOrEqualTo(10_000_000);
        assertThat(delta.voluntary()).isPositive();
        assertThat(delta.runs()).isPositive();
    }

    @Test
    void aThreadThatDoesNotExistReadsAsZeros() {
        assertThat(TaskCounters.of(ProcessHandle.current().pid(), Integer.MAX_VALUE)).isEqualTo(new TaskCounters(0, 0, 0, 0));
    }

    @Test
    void perRequestDividesEachCounter() {
        assertThat(new TaskCounters(4_000_000, 3000, 1000, 500).perRequest(2000))
                .isEqualTo("cpu=2.00us runs=1.50 blocked=0.50 preempted=0.25");
    }
}
