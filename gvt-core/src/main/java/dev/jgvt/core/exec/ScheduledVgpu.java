package dev.jgvt.core.exec;

import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostSubmission;

/**
 * What the {@link GpuScheduler} needs of one vGPU's submission ({@link Execlists}; test doubles in tests). The
 * scheduler calls {@link #prepare} and {@link #complete} without its own lock held; both take the vGPU's lock.
 */
interface ScheduledVgpu {
    /** The vGPU's id (for log messages). */
    int id();

    /** The scheduling weight. */
    int weight();

    /** Shadows {@code w} for the host under the vGPU's lock; null when it failed (the reason is in {@code w.failure}). */
    HostSubmission prepare(Workload w);

    /** The host engine stopped executing a workload {@link #prepare} returned a submission for. */
    void executionEnded();

    /** Completes {@code w} under the vGPU's lock: CSB, events, MSI. {@code done} is null when it never reached the host. */
    void complete(Workload w, HostCompletion done);

    /**
     * Adds {@code nanos} to the vGPU's mediation time: what preparing (or resuming) and completing one slice took, as
     * the scheduler measured it around those calls. Lock-free.
     */
    void mediated(long nanos);

    /**
     * Continues {@code w}, which an earlier slice left unfinished, under the vGPU's lock; null when it must not run
     * on (the reason is in {@code w.failure}).
     */
    HostSubmission resume(Workload w);

    /**
     * The host engine stopped {@code w} unfinished ({@code slice.preempted()}): keeps it for a later slice under the
     * vGPU's lock; false when it must not be resumed (the caller then completes it).
     */
    boolean suspend(Workload w, HostCompletion slice);

    /** Takes the workload waiting to be resumed on {@code engine}, or null. Lock-free: called under the scheduler's lock. */
    Workload takeSuspended(int engine);

    /** Whether a workload waits to be resumed on any engine. Lock-free. */
    boolean hasSuspended();

    /** Whether a workload waits to be resumed on {@code engine}. Lock-free. */
    boolean hasSuspended(int engine);
}
