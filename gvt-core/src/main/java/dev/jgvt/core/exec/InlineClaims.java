package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inline submission path's per-thread state (ADR 0015): the engine an ELSP trap claimed in
 * {@link GpuScheduler#submitted} for its own thread, held until the trap has released the vGPU's lock and calls
 * {@link #runClaimed}, which runs the claimed workload and the engine's next ones within the inline budget
 * ({@value GpuScheduler#INLINE_BUDGET_NANOS} ns).
 *
 * <p>Locking: the claim itself (the engine's {@code busy} mark, the budget check, the hand-off to the dispatcher)
 * is decided by the scheduler under its lock; this class holds no lock. {@link #hold} runs after the scheduler's
 * lock was released (the vGPU's lock may still be held); {@link #runClaimed} runs with neither lock held and takes
 * the scheduler's lock only inside {@link Next#next}, between workloads. Invariant: a thread holds at most one
 * claim, and every claim is run — a claim still pending when the same thread claims again is run first.
 */
final class InlineClaims {
    private static final Logger log = LoggerFactory.getLogger(GpuScheduler.class);

    /** The scheduler's side of the loop: releases the engine after a run and claims its next workload, or null. */
    @FunctionalInterface
    interface Next {
        /**
         * Under the scheduler's lock: releases engine {@code e} at {@code now} (the clock when the last run ended) and
         * claims its next workload while the budget lasts.
         */
        Workload next(ScheduledVgpu vgpu, int e, long deadline, long now);
    }

    private final HostSliceRunner runner;
    private final Next next;
    /** Per thread: the engine its current trap claimed for the inline path (one object per thread, reused). */
    private final ThreadLocal<Claim> claims = ThreadLocal.withInitial(Claim::new);
    /**
     * Claims held and not yet run, by any thread: {@link #runClaimed} follows every BAR write, and most claim nothing,
     * so it looks its thread's claim up only when some claim is pending (a thread sees its own increment).
     */
    private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();

    InlineClaims(HostSliceRunner runner, Next next) {
        this.runner = requireNonNull(runner, "runner is null");
        this.next = requireNonNull(next, "next is null");
    }

    /** Records that this thread claimed engine {@code e} for {@code first} of {@code vgpu}, to run by {@code deadline}. */
    void hold(ScheduledVgpu vgpu, int e, long deadline, Workload first) {
        Claim c = claims.get();
        if (c.vgpu != null) {
            // a trap path that does not call runClaimed afterwards (a bug): run that claim now rather than strand it
            log.error("an inline claim of {} was not run after its trap; running it now", c.vgpu);
            runClaimed();
        }
        c.vgpu = vgpu;
        c.engine = e;
        c.deadline = deadline;
        c.first = first;
        pending.incrementAndGet();
    }

    /**
     * Runs what the calling thread claimed — prepare, host execution (a slice of what is left of the inline
     * budget), completion with its MSI, and the engine's next workloads while the budget lasts — then releases the
     * engine, handing what is left to the dispatcher. Does nothing if this thread claimed nothing.
     */
    void runClaimed() {
        if (pending.get() == 0) {
            return;
        }
        Claim c = claims.get();
        ScheduledVgpu vgpu = c.vgpu;
        if (vgpu == null) {
            return;
        }
        int e = c.engine;
        long deadline = c.deadline;
        Workload w = c.first;
        c.vgpu = null;
        c.first = null;
        pending.decrementAndGet();
        // the first workload gets the whole budget as its host slice, however long its prepare took (a slice cut to
        // what prepare left over would stop it at its first arbitration point and wake the dispatcher after all);
        // later ones start only before the deadline and get what is left of it
        long slice = GpuScheduler.INLINE_BUDGET_NANOS;
        while (w != null) {
            long ended = runner.run(e, vgpu, w, slice);
            w = next.next(vgpu, e, deadline, ended);
            slice = Math.max(1, deadline - ended);
        }
    }

    /** An engine a trap claimed for its own thread, until the trap runs it after releasing the vGPU's lock. */
    private static final class Claim {
        ScheduledVgpu vgpu;
        int engine;
        long deadline;
        Workload first;
    }
}
