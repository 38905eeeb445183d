package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostSubmission;

/**
 * One vGPU's {@link Execlists} as the {@link GpuScheduler} sees it: keeps the scheduler's calls off the public API
 * of {@link Execlists}. Workload stages go to {@link Execlists} (which takes the vGPU's lock); questions about held
 * workloads go lock-free to {@link HeldWorkloads}, since the scheduler asks them under its own lock.
 */
final class ScheduledExeclists implements ScheduledVgpu {
    private final Execlists execlists;
    private final HeldWorkloads held;

    ScheduledExeclists(Execlists execlists, HeldWorkloads held) {
        this.execlists = requireNonNull(execlists, "execlists is null");
        this.held = requireNonNull(held, "held is null");
    }

    @Override
    public int id() {
        return execlists.vgpu().id();
    }

    @Override
    public int weight() {
        return execlists.vgpu().type().weight();
    }

    @Override
    public HostSubmission prepare(Workload w) {
        return execlists.prepare(w);
    }

    @Override
    public void executionEnded() {
        execlists.executionEnded();
    }

    @Override
    public void complete(Workload w, HostCompletion done) {
        execlists.complete(w, done);
    }

    @Override
    public void mediated(long nanos) {
        execlists.mediated(nanos);
    }

    @Override
    public HostSubmission resume(Workload w) {
        return execlists.resume(w);
    }

    @Override
    public boolean suspend(Workload w, HostCompletion slice) {
        return execlists.suspend(w, slice);
    }

    @Override
    public Workload takeSuspended(int engine) {
        return held.take(engine);
    }

    @Override
    public boolean hasSuspended() {
        return held.any();
    }

    @Override
    public boolean hasSuspended(int engine) {
        return held.has(engine);
    }

    @Override
    public String toString() {
        return execlists.toString();
    }
}
