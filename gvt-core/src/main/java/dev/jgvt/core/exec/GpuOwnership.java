package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Which vGPU owns the GPU (gvt-g.md §7.5): applies the {@link TimeSlicePolicy} to the {@link Backlog} at the moments
 * the {@link GpuScheduler} reports — a submission, an engine released, a tick, a vGPU added or removed — and tells
 * the policy whom to charge. Ownership changes hands only when no engine has work of the previous owner in flight;
 * until then a switch is pending and no new work of the owner starts. An owner that runs out of work keeps the GPU,
 * uncharged ({@code switchedTo(null)}), until it submits again (then the policy is asked about it alone,
 * {@link TimeSlicePolicy#pickOnly}) or another vGPU has work (then it yields at once) (ADR 0018).
 *
 * <p>A method that changes the owner returns true; the scheduler then wakes the new owner's dispatchers. This class
 * starts no thread, claims no engine and wakes nobody.
 *
 * <p>Locking: not thread-safe; every method runs under the scheduler's lock.
 */
final class GpuOwnership {
    private final LongSupplier clock;
    private final Backlog backlog;
    private final TimeSlicePolicy<ScheduledVgpu> policy;
    /** What the policy asks of each vGPU it considers (one object, not one per pick). */
    private final Predicate<ScheduledVgpu> hasWork;
    private ScheduledVgpu current;
    /**
     * {@link #current} has no work (nothing queued, in flight or held between slices) and keeps the GPU until it
     * submits again or another vGPU has work; the policy does not charge it meanwhile ({@code switchedTo(null)}).
     */
    private boolean ownerIdle;
    /** The policy chose another owner; no new work of the current one starts until the switch. */
    private boolean needReschedule;
    private long switches;

    GpuOwnership(LongSupplier clock, Backlog backlog) {
        this.clock = requireNonNull(clock, "clock is null");
        this.backlog = requireNonNull(backlog, "backlog is null");
        this.policy = new TimeSlicePolicy<>(clock.getAsLong());
        this.hasWork = backlog::hasWork;
    }

    void add(ScheduledVgpu vgpu) {
        policy.add(vgpu, vgpu.weight(), clock.getAsLong());
    }

    /** {@code vgpu} leaves (nothing of it in flight any more): if it owns the GPU, nobody does. */
    void remove(ScheduledVgpu vgpu) {
        if (current == vgpu) {
            policy.switchedTo(null, clock.getAsLong());
            current = null;
            ownerIdle = false;
            needReschedule = false;
        }
        policy.remove(vgpu);
    }

    /** {@code vgpu}'s device was reset: its next submission starts a new priority window. */
    void deviceReset(ScheduledVgpu vgpu) {
        policy.deactivate(vgpu);
    }

    /** The owner of the GPU, or null. */
    ScheduledVgpu owner() {
        return current;
    }

    /** The owner whose work may start now: the owner, or null when there is none or a switch is pending. */
    ScheduledVgpu runnableOwner() {
        return needReschedule ? null : current;
    }

    /**
     * {@code vgpu} queued work at {@code now}. Its first submission since it was added or reset starts its priority
     * window. An idle owner submitting again keeps the GPU if the policy picks it (no other vGPU has work, or it would
     * have yielded, so the pick is about it alone) and is charged from now on; when nobody owns the GPU or its owner
     * has no work, the policy is asked.
     *
     * @return whether the GPU changed owner
     */
    boolean submitted(ScheduledVgpu vgpu, long now) {
        policy.activate(vgpu, now); // the first submission since add or a device reset starts its priority window
        if (ownerIdle && current == vgpu && policy.pickOnly(vgpu, now) == vgpu) {
            // the idle owner submits again; no other vGPU has work (it would have taken the GPU), so the policy's
            // pick is about vgpu alone: it keeps the GPU and is charged from now on
            ownerIdle = false;
            policy.switchedTo(vgpu, now);
            return false;
        }
        if (current == null || ownerIdle || (current != vgpu && !backlog.hasWork(current))) {
            // nobody owns the GPU, or its owner (vgpu itself or another) has no work: ask the policy
            return reschedule(now);
        }
        return false;
    }

    /**
     * {@code owner}'s workload was released from an engine at {@code now} (completed or suspended). A pending switch
     * happens now; an owner left without work yields at once if another vGPU has work, else keeps the GPU without
     * being charged for it ({@link #ownerIdle}).
     *
     * @return whether the GPU changed owner
     */
    boolean released(ScheduledVgpu owner, long now) {
        if (needReschedule) {
            return reschedule(now);
        }
        if (!backlog.hasWork(owner)) {
            if (owner != current || backlog.othersHaveWork(owner)) {
                return reschedule(now);
            }
            ownerIdle = true;
            policy.switchedTo(null, now); // charged up to its last run's end, not for the idle time that follows
        }
        return false;
    }

    /**
     * Asks the policy who should own the GPU at {@code now}; switches when the current owner has nothing in flight,
     * else leaves the switch pending. An idle owner the policy picks again keeps the GPU (no switch) and is charged
     * from now on.
     *
     * @return whether the GPU changed owner
     */
    boolean reschedule(long now) {
        ScheduledVgpu next = policy.pick(now, hasWork);
        if (next == current) {
            needReschedule = false;
            if (ownerIdle && next != null) {
                ownerIdle = false;
                policy.switchedTo(next, now);
            }
            return false;
        }
        if (backlog.inFlight(current)) {
            needReschedule = true;
            return false;
        }
        needReschedule = false;
        policy.switchedTo(next, now);
        current = next;
        ownerIdle = false;
        switches++;
        return true;
    }

    /** Nanoseconds {@code vgpu} has owned the GPU (charged up to now if it owns it and is not idle). */
    long usedNanos(ScheduledVgpu vgpu) {
        if (current == vgpu && !ownerIdle) {
            policy.switchedTo(vgpu, clock.getAsLong()); // charge up to now
        }
        return policy.used(vgpu);
    }

    /** Times the GPU changed owner. */
    long switches() {
        return switches;
    }
}
