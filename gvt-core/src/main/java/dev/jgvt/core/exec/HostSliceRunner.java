package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one slice of a workload on a host engine for the {@link GpuScheduler}: prepare (or resume), host execution,
 * then completion or suspension through the owning {@link ScheduledVgpu}; accounts the time each host engine spent
 * executing and the owner's mediation time (preparing and completing), with four clock reads per slice: before
 * prepare, between prepare and execution, between execution and completion, after completion. Used by whichever thread holds the engine — the inline path ({@link InlineClaims}) or the engine's
 * dispatcher.
 *
 * <p>Locking: called with <b>no</b> scheduler lock held (the scheduler's {@code busy[e]} claim is what makes the
 * caller the engine's only user); the owner's callbacks take the vGPU's lock themselves, and nothing holds a lock
 * while the host engine executes. {@link #busyNanos} is read lock-free.
 */
final class HostSliceRunner {
    private static final Logger log = LoggerFactory.getLogger(GpuScheduler.class);

    private final HostGpu gpu;
    private final LongSupplier clock;
    /** Per engine: nanoseconds the host engine spent executing workloads (written by the thread holding the engine). */
    private final AtomicLongArray busyNanos = new AtomicLongArray(Engine.values().length);

    HostSliceRunner(HostGpu gpu, LongSupplier clock) {
        this.gpu = requireNonNull(gpu, "gpu is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** Nanoseconds engine {@code e} spent executing workloads of any vGPU so far. */
    long busyNanos(int e) {
        return busyNanos.get(e);
    }

    /**
     * Runs one slice of {@code w} (its first, or a later one for a workload an earlier slice left unfinished) on
     * this thread, with no scheduler lock held; completes it unless the host engine stopped it unfinished, in which
     * case the owner keeps it for the next slice (and the GPU may change hands meanwhile).
     *
     * @param sliceNanos a shorter slice than the submission's (the inline path's remaining budget), or 0
     */
    /** @return the clock when the slice's work ended (after the completion, or after the execution it suspended) */
    long run(int engine, ScheduledVgpu owner, Workload w, long sliceNanos) {
        HostCompletion done = null;
        long begun = clock.getAsLong();
        long executed = begun;
        try {
            boolean first = w.state == null;
            HostSubmission submission = first ? owner.prepare(w) : owner.resume(w);
            executed = clock.getAsLong();
            if (submission != null) {
                if (first) {
                    w.started = executed; // when its first slice starts on the host
                }
                if (sliceNanos > 0 && (submission.sliceNanos() == 0 || submission.sliceNanos() > sliceNanos)) {
                    submission = submission.withSlice(sliceNanos);
                }
                long started = executed;
                try {
                    done = gpu.execute(submission);
                } finally {
                    executed = clock.getAsLong();
                    busyNanos.addAndGet(engine, executed - started);
                    begun += executed - started; // what follows is mediation again
                    owner.executionEnded();
                }
                if (done.preempted() && owner.suspend(w, done)) {
                    owner.mediated(executed - begun);
                    return executed;
                }
            }
        } catch (RuntimeException ex) {
            w.failure = "internal error: " + ex;
            log.error("vGPU {}: {} failed on the host", owner.id(), w, ex);
        }
        owner.complete(w, done);
        long ended = clock.getAsLong();
        owner.mediated(ended - begun);
        return ended;
    }
}
