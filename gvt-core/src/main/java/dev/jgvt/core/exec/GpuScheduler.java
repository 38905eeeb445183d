package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Runs the vGPUs' workloads on the host GPU (gvt-g.md §7.4-7.5). A workload is prepared, executed on the host
 * engine and completed by one thread, which also signals the completion's MSI:
 * <ul>
 * <li><b>inline</b>, on the thread that took the guest's ELSP write, right after that trap released the vGPU's lock
 *     ({@link #submitted} claims the engine, {@link #runClaimed} runs it), when the vGPU owns the GPU, no
 *     reschedule is pending and the engine is idle: no other thread is woken. An ELSP trap runs at most
 *     {@value #INLINE_BUDGET_NANOS} ns of work this way (ADR 0015); what is left then, and whatever could not
 *     start inline, goes to
 * <li>the engine's <b>dispatcher thread</b>, which takes the next workload of the vGPU that owns the GPU.
 * </ul>
 * A service thread applies the {@link TimeSlicePolicy} every {@value TimeSlicePolicy#TIME_SLICE_NANOS} ns while
 * anything is queued or in flight. Ownership changes hands only when no engine has work of the previous owner in
 * flight. An owner that runs out of work keeps the GPU, uncharged, until it submits again (then the policy is asked
 * as for any submission on an idle GPU) or another vGPU has work (then it yields at once): an idle GPU does not
 * change hands twice per submission (ADR 0018).
 *
 * <p>This class owns the lock, the threads and the engines' claims: it queues submissions, claims an idle engine for
 * the inline path or hands the work to the dispatcher, runs the dispatcher loops and the service thread's policy
 * ticks, and wakes whom a change needs. Beside it, all under its lock: {@link Backlog} holds the run queues and which
 * vGPU has work in flight on each engine, and {@link GpuOwnership} decides who owns the GPU (the bridge to the
 * {@link TimeSlicePolicy}). {@link InlineClaims} keeps the claim an ELSP trap made until the trap runs it, and
 * {@link HostSliceRunner} runs one slice of a workload on the host engine for either path.
 *
 * <p>Invariants (under this scheduler's lock): an engine runs one workload at a time, in queue order (its
 * {@link Backlog#busy} mark is claimed by the inline path or the dispatcher before a workload leaves the queue and
 * released after it completed); only the owner's work starts; whoever releases an engine re-checks the queue and
 * wakes the dispatcher if work is left, so a workload queued while the engine was claimed is never stranded.
 *
 * <p>Lock order: a vGPU's lock may be held when this scheduler's lock is taken (ELSP, completion), never the
 * reverse: the dispatchers release the scheduler's lock before preparing or completing a workload, and so does the
 * inline path, which moreover runs only after its trap released the vGPU's lock. No thread holds a lock while a
 * host engine executes.
 */
public final class GpuScheduler implements AutoCloseable {
    private static final int ENGINES = Engine.values().length;
    /**
     * How long an ELSP trap may run workloads on its own thread (ADR 0015): its first workload gets a host slice of
     * this length, it starts no further workload once this much time has passed since the trap began, and a further
     * one gets a slice of what is left (the engine stops a workload at its next arbitration point after its slice;
     * the dispatcher resumes it).
     */
    static final long INLINE_BUDGET_NANOS = 100_000L;

    private final LongSupplier clock;
    private final boolean inline;
    private final ReentrantLock lock = new ReentrantLock();
    /** Per engine: its dispatcher waits here for work of the owner (signalled for that engine only). */
    private final Condition[] work = new Condition[ENGINES];
    /** The service thread waits here for work to appear (or its tick). */
    private final Condition service = lock.newCondition();
    /** {@link #unregister} waits here for a vGPU's in-flight work to end. */
    private final Condition drained = lock.newCondition();
    /** The run queues and the engines' in-flight marks (under {@link #lock}). */
    private final Backlog backlog = new Backlog();
    /** Who owns the GPU (under {@link #lock}). */
    private final GpuOwnership ownership;
    private final List<Thread> threads = new ArrayList<>();
    private boolean closed;
    private long inlineStarts;
    private long dispatchedStarts;
    private long handoffs;
    /** Times a dispatcher woke up and found nothing it could take. */
    private long idleWakeups;
    /** Runs a slice of a workload on the host engine (inline or dispatched), with no lock held. */
    private final HostSliceRunner runner;
    /** The inline path's per-thread claims. */
    private final InlineClaims inlineClaims;

    /** A scheduler for {@code gpu}'s engines on the system clock, running idle-engine work inline; its threads start at once. */
    public GpuScheduler(HostGpu gpu) {
        this(gpu, System::nanoTime, true);
    }

    /**
     * @param inline whether an ELSP trap may run work on its own thread; false sends everything through the
     *     dispatchers (the design before ADR 0015, kept for comparison in tests)
     */
    GpuScheduler(HostGpu gpu, LongSupplier clock, boolean inline) {
        this.clock = requireNonNull(clock, "clock is null");
        this.runner = new HostSliceRunner(requireNonNull(gpu, "gpu is null"), clock);
        this.inlineClaims = new InlineClaims(runner, this::next);
        this.inline = inline;
        this.ownership = new GpuOwnership(clock, backlog);
        for (int i = 0; i < work.length; i++) {
            work[i] = lock.newCondition();
        }
        for (Engine engine : Engine.GT2) {
            threads.add(Thread.ofPlatform().daemon().name("gvt-dispatch-" + engine.name().toLowerCase(Locale.ROOT))
                    .start(() -> dispatch(engine)));
        }
        threads.add(Thread.ofPlatform().daemon().name("gvt-schedule").start(this::service));
    }

    // ---------------------------------------------------------------------------------- called by Execlists

    void register(ScheduledVgpu vgpu) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the scheduler is closed");
            }
            backlog.add(vgpu);
            ownership.add(vgpu);
        } finally {
            lock.unlock();
        }
    }

    /** Drops {@code vgpu}'s queued work and waits until none of its work is in flight. */
    void unregister(ScheduledVgpu vgpu) {
        lock.lock();
        try {
            backlog.queues(vgpu).clear();
            while (backlog.inFlight(vgpu)) {
                drained.awaitUninterruptibly();
            }
            ownership.remove(vgpu);
            backlog.remove(vgpu);
            if (ownership.owner() == null) {
                reschedule(); // hand the GPU to whoever has work now
            }
            wakeDispatchers();
        } finally {
            lock.unlock();
        }
    }

    /**
     * An ELSP write of {@code vgpu} created {@code created} on {@code engine} (trap thread, vGPU lock held): queues
     * them all (a completion looks at the next queued workload to tell a lite restore), then, if the vGPU owns the
     * GPU and nothing runs on the engine, claims the engine for this thread, which runs the work in
     * {@link #runClaimed} once it has released the vGPU's lock; otherwise wakes the engine's dispatcher and the
     * service thread. The claim happens in the same critical section as the queueing, so a dispatcher woken by an
     * ownership switch cannot take the work first.
     */
    void submitted(ScheduledVgpu vgpu, Engine engine, long now, Workload... created) {
        int e = engine.ordinal();
        long deadline = now + INLINE_BUDGET_NANOS;
        Workload w;
        lock.lock();
        try {
            RunQueues q = backlog.queues(vgpu);
            for (Workload c : created) {
                q.add(c);
            }
            if (ownership.submitted(vgpu, now)) {
                // vgpu or another got the GPU: wake the new owner's dispatchers, but if vgpu got it, engine e is
                // claimed or handed off just below
                wakeNewOwner(vgpu, e);
            }
            w = claimOrHandOff(vgpu, e, deadline, false, now);
        } finally {
            lock.unlock();
        }
        if (w != null) {
            inlineClaims.hold(vgpu, e, deadline, w);
        }
    }

    /**
     * Runs what the calling thread claimed in {@link #submitted} ({@link InlineClaims#runClaimed}). Called by the
     * trapping thread after it released the vGPU's lock; does nothing if it claimed nothing.
     */
    void runClaimed() {
        inlineClaims.runClaimed();
    }

    /** The scheduler's clock (the time {@link #submitted} expects). */
    long now() {
        return clock.getAsLong();
    }

    /**
     * Releases the engine after an inline run that ended at {@code now} and claims the next workload for the inline
     * path, or hands off.
     */
    private Workload next(ScheduledVgpu vgpu, int e, long deadline, long now) {
        lock.lock();
        try {
            released(e, vgpu, now);
            return claimOrHandOff(vgpu, e, deadline, true, now);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under this scheduler's lock: claims the next workload of {@code vgpu} on engine {@code e} for the inline
     * path, or leaves the queue to the dispatcher (woken if {@code vgpu} owns the GPU) and the service thread and
     * returns null. After an inline run ({@code ran}, which ended at {@code ranUntil}) only while the budget lasts.
     */
    private Workload claimOrHandOff(ScheduledVgpu vgpu, int e, long deadline, boolean ran, long ranUntil) {
        RunQueues q = backlog.queues(vgpu);
        if (q == null || closed) {
            return null;
        }
        if (q.isEmpty(e) && !vgpu.hasSuspended(e)) {
            return null; // nothing to run (the common end of an inline run: no clock read)
        }
        boolean owner = ownership.runnableOwner() == vgpu;
        if (owner && inline && backlog.busy(e) == null && (!ran || ranUntil - deadline < 0)) {
            Workload w = vgpu.takeSuspended(e); // an unfinished workload continues before newer ones start
            if (w == null) {
                w = q.poll(e);
            }
            if (w != null) {
                backlog.claim(e, vgpu);
                inlineStarts++;
            }
            return w;
        }
        if (owner) {
            work[e].signal();
        }
        if (ran) {
            handoffs++;
        }
        service.signal();
        return null;
    }

    /**
     * {@code vgpu}'s whole device was reset (guest reboot, full GPU reset): like a newly added vGPU, its next
     * submission starts a new priority window ({@link TimeSlicePolicy#activate}), for the driver's probe after it.
     */
    void deviceReset(ScheduledVgpu vgpu) {
        lock.lock();
        try {
            ownership.deviceReset(vgpu);
        } finally {
            lock.unlock();
        }
    }

    /** The next queued workload of {@code vgpu} on {@code engine}, or null. */
    Workload peek(ScheduledVgpu vgpu, Engine engine) {
        lock.lock();
        try {
            RunQueues q = backlog.queues(vgpu);
            return q == null ? null : q.peek(engine);
        } finally {
            lock.unlock();
        }
    }

    /** Drops {@code vgpu}'s queued workloads on {@code engine}; returns how many. */
    int drop(ScheduledVgpu vgpu, Engine engine) {
        lock.lock();
        try {
            RunQueues q = backlog.queues(vgpu);
            return q == null ? 0 : q.drop(engine);
        } finally {
            lock.unlock();
        }
    }

    /** Nanoseconds {@code vgpu} has owned the GPU. */
    long usedNanos(ScheduledVgpu vgpu) {
        lock.lock();
        try {
            return ownership.usedNanos(vgpu);
        } finally {
            lock.unlock();
        }
    }

    /** Nanoseconds {@code engine} spent executing workloads of any vGPU since this scheduler started. */
    public long busyNanos(Engine engine) {
        return runner.busyNanos(engine.ordinal());
    }

    /** Times the GPU changed owner. */
    public long switches() {
        lock.lock();
        try {
            return ownership.switches();
        } finally {
            lock.unlock();
        }
    }

    /** Where workloads started so far: on the submitting thread or on a dispatcher. */
    public Starts starts() {
        lock.lock();
        try {
            return new Starts(inlineStarts, dispatchedStarts, handoffs);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Times a dispatcher thread was woken and found no work it could take: wasted wake-ups, which the inline path of
     * an idle owner must not cause.
     */
    public long idleWakeups() {
        lock.lock();
        try {
            return idleWakeups;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Counts of where workloads started.
     *
     * @param inline workloads prepared, executed and completed on the thread that took their ELSP write
     * @param dispatched workloads an engine's dispatcher thread ran (queued behind other work, another owner, a
     *     pending switch, or left over when an ELSP trap's inline budget ran out)
     * @param handoffs times an ELSP trap ran out of inline budget with work left and woke the dispatcher
     */
    public record Starts(long inline, long dispatched, long handoffs) {}

    // ---------------------------------------------------------------------------------------------- threads

    private void dispatch(Engine engine) {
        int e = engine.ordinal();
        boolean woke = false;
        lock.lock();
        try {
            while (!closed) {
                ScheduledVgpu owner = ownership.runnableOwner();
                Workload w = null;
                if (owner != null && backlog.busy(e) == null) {
                    w = owner.takeSuspended(e); // an unfinished workload continues before newer ones start
                    if (w == null) {
                        w = backlog.queues(owner).poll(e);
                    }
                }
                if (w == null) {
                    if (woke) {
                        idleWakeups++;
                    }
                    work[e].awaitUninterruptibly();
                    woke = true;
                    continue;
                }
                woke = false;
                backlog.claim(e, owner);
                dispatchedStarts++;
                lock.unlock();
                long ended = 0;
                boolean ran = false;
                try {
                    ended = runner.run(e, owner, w, 0);
                    ran = true;
                } finally {
                    lock.lock();
                    released(e, owner, ran ? ended : clock.getAsLong());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under this scheduler's lock: {@code owner}'s workload on engine {@code e} completed or was suspended at
     * {@code now}. Frees the engine and tells {@link GpuOwnership#released}, which may switch the GPU (a pending
     * switch, or an owner left without work while another vGPU has work).
     */
    private void released(int e, ScheduledVgpu owner, long now) {
        backlog.release(e);
        drained.signalAll();
        if (ownership.released(owner, now)) {
            wakeNewOwner(null, -1);
        }
    }

    /** Applies the policy every tick while anything is registered and busy; sleeps otherwise. */
    private void service() {
        lock.lock();
        try {
            while (!closed) {
                if (backlog.anyHasWork(ownership.owner())) { // an idle owner keeps the GPU without ticks
                    reschedule();
                    service.await(TimeSlicePolicy.TIME_SLICE_NANOS, TimeUnit.NANOSECONDS);
                } else {
                    service.awaitUninterruptibly();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    /** Asks the policy who should own the GPU now ({@link GpuOwnership#reschedule}); a switch wakes the new owner. */
    private void reschedule() {
        if (ownership.reschedule(clock.getAsLong())) {
            wakeNewOwner(null, -1);
        }
    }

    /**
     * The GPU just changed owner: wakes the dispatchers of the engines on which the new owner has work, except engine
     * {@code claiming} when the new owner is {@code claimer}: the caller claims that engine for the inline path or
     * hands it off itself ({@link #claimOrHandOff}).
     */
    private void wakeNewOwner(ScheduledVgpu claimer, int claiming) {
        ScheduledVgpu next = ownership.owner();
        wakeDispatchers(next, next == claimer ? claiming : -1);
    }

    /**
     * Wakes the dispatchers of the engines on which {@code owner} has queued or suspended work, but not that of engine
     * {@code except}: a dispatcher woken with nothing to take would only cost the waking thread a futex call and the
     * host a context switch.
     */
    private void wakeDispatchers(ScheduledVgpu owner, int except) {
        if (owner == null) {
            return;
        }
        RunQueues q = backlog.queues(owner);
        for (int e = 0; e < ENGINES; e++) {
            if (e != except && ((q != null && !q.isEmpty(e)) || owner.hasSuspended(e))) {
                work[e].signal();
            }
        }
    }

    /** Wakes every dispatcher (closing, a vGPU leaving). */
    private void wakeDispatchers() {
        for (Condition c : work) {
            c.signal();
        }
    }

    /** Stops the threads; work still queued is dropped. Idempotent. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            wakeDispatchers();
            service.signal();
        } finally {
            lock.unlock();
        }
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
