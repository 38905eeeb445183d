package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.vgpu.AccessCounts;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class HostSampleTest {
    private static AccessCounts counts(long bar0Reads, long bar0Writes, long nanos) {
        long[] reads = new long[8];
        long[] writes = new long[8];
        long[] time = new long[8];
        reads[0] = bar0Reads;
        writes[0] = bar0Writes;
        time[0] = nanos;
        return new AccessCounts(reads, writes, time);
    }

    @Test
    void intervalsBetweenMarksGiveRatesAndShares() {
        HostSample begin = new HostSample("idle-begin", "", 1_000_000_000L, counts(100, 50, 2_000_000), 3_000_000_000L, 10_000_000_000L, 0,
                new HostSample.ThreadCpu(1_000_000_000L, 0, 0));
        HostSample end = new HostSample("idle-end", "20 s", 21_000_000_000L, counts(700, 250, 12_000_000), 4_000_000_000L, 30_000_000_000L,
                400_000_000L, new HostSample.ThreadCpu(1_400_000_000L, 200_000_000L, 0));

        List<Map<String, Object>> marks = QemuSummary.marks(List.of(begin, end));

        assertThat(marks).hasSize(2);
        assertThat(marks.get(0)).containsEntry("name", "idle-begin").doesNotContainKey("sincePreviousSeconds");
        Map<String, Object> idle = marks.get(1);
        assertThat(idle).containsEntry("name", "idle-end").containsEntry("argument", "20 s")
                .containsEntry("from", "idle-begin").containsEntry("sincePreviousSeconds", 20.0)
                .containsEntry("bar0ReadsPerSecond", 30.0)
                .containsEntry("bar0WritesPerSecond", 10.0)
                .containsEntry("deviceModelShare", 0.0005)
                .containsEntry("jvmCpuShare", 0.05)
                .containsEntry("qemuCpuShare", 1.0)
                .containsEntry("captureShare", 0.02)
                .containsEntry("vfioUserThreadsCpuShare", 0.02)
                .containsEntry("engineThreadsCpuShare", 0.01);
        @SuppressWarnings("unchecked")
        Map<String, Object> accesses = (Map<String, Object>) idle.get("accesses");
        assertThat(accesses).containsEntry("bar0Reads", 600L).containsEntry("bar0Writes", 200L);
    }

    @Test
    void unknownCpuTimesGiveNoShare() {
        HostSample begin = new HostSample("a", "", 0, counts(0, 0, 0), -1, -1, 0, HostSample.ThreadCpu.NONE);
        HostSample end = new HostSample("b", "", 1_000_000_000L, counts(1, 0, 0), -1, -1, 0, HostSample.ThreadCpu.NONE);

        Map<String, Object> interval = QemuSummary.marks(List.of(begin, end)).get(1);

        assertThat(interval.get("jvmCpuShare")).isNull();
        assertThat(interval.get("qemuCpuShare")).isNull();
    }

    @Test
    void thisJvmAndAProcessTreeReportCpuTime() {
        assertThat(HostSample.currentJvmCpuNanos()).isPositive();
        assertThat(HostSample.treeCpuNanos(ProcessHandle.current())).isPositive();
        assertThat(HostSample.treeCpuNanos(null)).isEqualTo(-1);
    }

    @Test
    void threadCpuCountsTheServersThreadsByName() throws InterruptedException {
        java.util.concurrent.CountDownLatch spun = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch sampled = new java.util.concurrent.CountDownLatch(1);
        long before = HostSample.ThreadCpu.now().vfioUserNanos();
        Thread server = Thread.ofPlatform().name("vfio-user test").start(() -> {
            long spin = System.nanoTime();
            while (System.nanoTime() - spin < 50_000_000L) {
                Thread.onSpinWait();
            }
            spun.countDown();
            try {
                sampled.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            spun.await();
            assertThat(HostSample.ThreadCpu.now().vfioUserNanos()).isGreaterThan(before);
        } finally {
            sampled.countDown();
            server.join();
        }
    }
}
