package dev.jgvt.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A thread's scheduler counters from {@code /proc/<pid>/task/<tid>/}: CPU time ({@code schedstat}: run time in
 * ns, times run on a CPU) and context switches ({@code status}: voluntary, i.e. it blocked, and involuntary, i.e.
 * it was preempted). For {@code gvt bench vfio-user}: the difference of two readings over the measured rounds,
 * divided by the requests served, is a server's CPU time and switches per request.
 */
record TaskCounters(long runNanos, long runs, long voluntary, long involuntary) {
    /** The counters of thread {@code tid} of process {@code pid}; zeros where the kernel does not provide them. */
    static TaskCounters of(long pid, long tid) {
        Path task = Path.of("/proc", Long.toString(pid), "task", Long.toString(tid));
        long run = 0;
        long runs = 0;
        long voluntary = 0;
        long involuntary = 0;
        try {
            String[] s = Files.readString(task.resolve("schedstat")).trim().split(" ");
            run = Long.parseLong(s[0]);
            runs = Long.parseLong(s[2]);
            for (String line : Files.readAllLines(task.resolve("status"))) {
                if (line.startsWith("voluntary_ctxt_switches:")) {
                    voluntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                    involuntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // a kernel without schedstat, or the task is gone: report zeros rather than fail the bench
        }
        return new TaskCounters(run, runs, voluntary, involuntary);
    }

    TaskCounters minus(TaskCounters earlier) {
        return new TaskCounters(runNanos - earlier.runNanos, runs - earlier.runs, voluntary - earlier.voluntary,
                involuntary - earlier.involuntary);
    }

    /** {@code cpu=..us runs=.. blocked=.. preempted=..} per one of {@code requests}. */
    String perRequest(long requests) {
        double n = Math.max(1, requests);
        return String.format("cpu=%.2fus runs=%.2f blocked=%.2f preempted=%.2f", runNanos / n / 1000, runs / n, voluntary / n,
                involuntary / n);
    }
}
