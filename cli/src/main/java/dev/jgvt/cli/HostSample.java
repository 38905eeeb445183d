package dev.jgvt.cli;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.vgpu.AccessCounts;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Optional;

/**
 * The host's counters at one guest mark ({@code jgvt-mark: NAME ARG}), taken when the mark's console line
 * arrives: the vGPU's access counters (with the device model's handling time), the CPU time of this JVM (the
 * vfio-user server, the engine and the software GPU, but also the harness's captures, JIT and GC), the CPU
 * time of the QEMU process tree, and the harness's capture time so far. Two samples give rates and shares
 * over the interval between two marks.
 *
 * @param name the mark's name
 * @param argument the rest of the mark's line, or ""
 * @param nanos {@link System#nanoTime()} when the line arrived
 * @param counts the vGPU's access counters
 * @param jvmCpuNanos CPU time of this process, or -1 when the platform does not report it
 * @param qemuCpuNanos CPU time of QEMU and its descendants, or -1 when unknown
 * @param captureNanos wall time the harness spent capturing the display so far
 * @param threads CPU time of this JVM's live Java threads by {@link ThreadGroup}
 */
record HostSample(String name, String argument, long nanos, AccessCounts counts, long jvmCpuNanos, long qemuCpuNanos,
        long captureNanos, ThreadCpu threads) {
    HostSample {
        requireNonNull(name, "name is null");
        requireNonNull(argument, "argument is null");
        requireNonNull(counts, "counts is null");
        requireNonNull(threads, "threads is null");
    }

    /**
     * CPU time of the live Java threads, by what they do: the vfio-user server's threads (named
     * {@code vfio-user*}), the engine's (named {@code gvt-*}: scheduler, dispatchers, completers), and the rest
     * (the harness: its main thread with the captures, the console pump). A thread that ended between two
     * samples takes its time with it; JIT and GC threads are not Java threads and are in neither (they are in
     * {@link #jvmCpuNanos()}).
     */
    record ThreadCpu(long vfioUserNanos, long engineNanos, long otherNanos) {
        static final ThreadCpu NONE = new ThreadCpu(0, 0, 0);

        static ThreadCpu now() {
            java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            if (!mx.isThreadCpuTimeSupported() || !mx.isThreadCpuTimeEnabled()) {
                return NONE;
            }
            long server = 0;
            long engine = 0;
            long other = 0;
            for (java.lang.management.ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
                if (info == null) {
                    continue;
                }
                long cpu = mx.getThreadCpuTime(info.getThreadId());
                if (cpu < 0) {
                    continue;
                }
                String name = info.getThreadName();
                if (name.startsWith("vfio-user")) {
                    server += cpu;
                } else if (name.startsWith("gvt-") && !name.startsWith("gvt-qemu")) {
                    engine += cpu;
                } else {
                    other += cpu;
                }
            }
            return new ThreadCpu(server, engine, other);
        }
    }

    /** CPU time of this JVM, or -1. */
    static long currentJvmCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime()
                : -1;
    }

    /**
     * CPU time of a process and its live descendants (QEMU runs under {@code unshare} and {@code chroot}),
     * or -1 when the process is gone or the platform does not report CPU times.
     */
    static long treeCpuNanos(ProcessHandle root) {
        if (root == null) {
            return -1;
        }
        Optional<Duration> own = root.info().totalCpuDuration();
        if (own.isEmpty()) {
            return -1;
        }
        long sum = own.get().toNanos();
        for (ProcessHandle child : root.descendants().toList()) {
            sum += child.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
        }
        return sum;
    }
}
