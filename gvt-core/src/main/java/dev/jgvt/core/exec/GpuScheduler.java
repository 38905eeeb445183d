package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the vGPUs' workloads on the host GPU (gvt-g.md §7.4-7.5): one dispatcher thread per engine takes the
 * next workload of the vGPU that owns the GPU, prepares it, executes it on the host engine and completes it; a
 * service thread applies the {@link TimeSlicePolicy} every {@value TimeSlicePolicy#TIME_SLICE_NANOS} ns while
 * anything is queued. Ownership changes hands only when no engine has work of the previous owner in flight; an
 * owner that runs out of work yields at once.
 *
 * <p>Lock order: a vGPU's lock may be held when this scheduler's lock is taken (ELSP, completion), never the
 * reverse: the dispatchers release the scheduler's lock before preparing or completing a workload.
 */
public final class GpuScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GpuScheduler.class);
    private static final int ENGINES = Engine.values().length;

    private final HostGpu gpu;
    private final LongSupplier clock;
    private final ReentrantLock lock = new ReentrantLock();
    /** Per engine: its dispatcher waits here for work of the owner (signalled for that engine only). */
    private final Condition[] work = new Condition[ENGINES];
    /** The service thread waits here for work to appear (or its tick). */
    private final Condition service = lock.newCondition();
    /** {@link #unregister} waits here for a vGPU's in-flight work to end. */
    private final Condition drained = lock.newCondition();
    private final TimeSlicePolicy<Execlists> policy;
    private final List<Execlists> registered = new ArrayList<>();
    /** The run queues of each registered vGPU. */
    private final Map<Execlists, RunQueues> queues = new IdentityHashMap<>();
    /** Per engine: whose workload is between prepare and complete, or null. */
    private final Execlists[] busy = new Execlists[ENGINES];
    private final List<Thread> threads = new ArrayList<>();
    private Execlists current;
    /** The policy chose another owner; no new work of the current one starts until the switch. */
    private boolean needReschedule;
    private boolean closed;
    private long switches;
    /** Per engine: nanoseconds the host engine spent executing workloads (written by that engine's dispatcher only). */
    private final java.util.concurrent.atomic.AtomicLongArray busyNanos = new java.util.concurrent.atomic.AtomicLongArray(ENGINES);

    /** A scheduler for {@code gpu}'s engines on the system clock; its threads start at once. */
    public GpuScheduler(HostGpu gpu) {
        this(gpu, System::nanoTime);
    }

    GpuScheduler(HostGpu gpu, LongSupplier clock) {
        this.gpu = requireNonNull(gpu, "gpu is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.policy = new TimeSlicePolicy<>(clock.getAsLong());
        for (int i = 0; i < work.length; i++) {
            work[i] = lock.newCondition();
        }
        for (Engine engine : Engine.GT2) {
            threads.add(Thread.ofPlatform().daemon().name("gvt-dispatch-" + engine.name().toLowerCase(java.util.Locale.ROOT))
                    .start(() -> dispatch(engine)));
        }
        threads.add(Thread.ofPlatform().daemon().name("gvt-schedule").start(this::service));
    }

    // ---------------------------------------------------------------------------------- called by Execlists

    void register(Execlists vgpu) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the scheduler is closed");
            }
            registered.add(vgpu);
            queues.put(vgpu, new RunQueues());
            policy.add(vgpu, vgpu.weight(), clock.getAsLong());
        } finally {
            lock.unlock();
        }
    }

    /** Drops {@code vgpu}'s queued work and waits until none of its work is in flight. */
    void unregister(Execlists vgpu) {
        lock.lock();
        try {
            queues.get(vgpu).clear();
            while (inFlight(vgpu)) {
                drained.awaitUninterruptibly();
            }
            if (current == vgpu) {
                policy.switchedTo(null, clock.getAsLong());
                current = null;
                needReschedule = false;
            }
            policy.remove(vgpu);
            registered.remove(vgpu);
            queues.remove(vgpu);
            if (current == null) {
                reschedule(); // hand the GPU to whoever has work now
            }
            wakeDispatchers();
        } finally {
            lock.unlock();
        }
    }

    void enqueue(Execlists vgpu, Workload w) {
        lock.lock();
        try {
            queues.get(vgpu).add(w);
            if (current == null || (current != vgpu && !hasWork(current))) {
                reschedule();
            }
            if (current == vgpu) {
                work[w.engine.ordinal()].signal();
            }
            service.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The next queued workload of {@code vgpu} on {@code engine}, or null. */
    Workload peek(Execlists vgpu, Engine engine) {
        lock.lock();
        try {
            RunQueues q = queues.get(vgpu);
            return q == null ? null : q.peek(engine);
        } finally {
            lock.unlock();
        }
    }

    /** Drops {@code vgpu}'s queued workloads on {@code engine}; returns how many. */
    int drop(Execlists vgpu, Engine engine) {
        lock.lock();
        try {
            RunQueues q = queues.get(vgpu);
            return q == null ? 0 : q.drop(engine);
        } finally {
            lock.unlock();
        }
    }

    /** Nanoseconds {@code vgpu} has owned the GPU. */
    long usedNanos(Execlists vgpu) {
        lock.lock();
        try {
            if (current == vgpu) {
                policy.switchedTo(vgpu, clock.getAsLong()); // charge up to now
            }
            return policy.used(vgpu);
        } finally {
            lock.unlock();
        }
    }

    /** Nanoseconds {@code engine} spent executing workloads of any vGPU since this scheduler started. */
    public long busyNanos(Engine engine) {
        return busyNanos.get(engine.ordinal());
    }

    /** Times the GPU changed owner. */
    public long switches() {
        lock.lock();
        try {
            return switches;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------- threads

    private void dispatch(Engine engine) {
        int e = engine.ordinal();
        lock.lock();
        try {
            while (!closed) {
                Execlists owner = current;
                Workload w = null;
                if (owner != null && !needReschedule) {
                    w = owner.takeSuspended(e); // an unfinished workload continues before newer ones start
                    if (w == null) {
                        w = queues.get(owner).poll(e);
                    }
                }
                if (w == null) {
                    work[e].awaitUninterruptibly();
                    continue;
                }
                busy[e] = owner;
                lock.unlock();
                try {
                    run(e, owner, w);
                } finally {
                    lock.lock();
                    busy[e] = null;
                }
                drained.signalAll();
                if (needReschedule || !hasWork(owner)) {
                    reschedule(); // a pending switch, or an owner without work yields at once
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs one slice of {@code w} (its first, or a later one for a workload an earlier slice left unfinished);
     * completes it unless the host engine stopped it unfinished, in which case the owner keeps it for the next
     * slice (and the GPU may change hands meanwhile).
     */
    private void run(int engine, Execlists owner, Workload w) {
        HostCompletion done = null;
        try {
            HostSubmission submission = w.state == null ? owner.prepare(w) : owner.resume(w);
            if (submission != null) {
                long started = clock.getAsLong();
                try {
                    done = gpu.execute(submission);
                } finally {
                    busyNanos.addAndGet(engine, clock.getAsLong() - started);
                    owner.executionEnded();
                }
                if (done.preempted() && owner.suspend(w, done)) {
                    return;
                }
            }
        } catch (RuntimeException ex) {
            w.failure = "internal error: " + ex;
            log.error("vGPU {}: {} failed on the host", owner.vgpu().id(), w, ex);
        }
        owner.complete(w, done);
    }

    /** Applies the policy every tick while anything is registered and busy; sleeps otherwise. */
    private void service() {
        lock.lock();
        try {
            while (!closed) {
                boolean anyWork = current != null;
                for (int i = 0; i < registered.size() && !anyWork; i++) {
                    anyWork = hasWork(registered.get(i));
                }
                if (anyWork) {
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

    /** Asks the policy who should own the GPU; switches when the current owner has nothing in flight. */
    private void reschedule() {
        long now = clock.getAsLong();
        Execlists next = policy.pick(now, this::hasWork);
        if (next == current) {
            needReschedule = false;
            return;
        }
        if (inFlight(current)) {
            needReschedule = true;
            return;
        }
        needReschedule = false;
        policy.switchedTo(next, now);
        current = next;
        switches++;
        wakeDispatchers();
    }

    private void wakeDispatchers() {
        for (Condition c : work) {
            c.signal();
        }
    }

    private boolean hasWork(Execlists vgpu) {
        if (vgpu == null) {
            return false;
        }
        RunQueues q = queues.get(vgpu);
        return (q != null && !q.isEmpty()) || inFlight(vgpu) || vgpu.hasSuspended();
    }

    private boolean inFlight(Execlists vgpu) {
        if (vgpu == null) {
            return false;
        }
        for (Execlists b : busy) {
            if (b == vgpu) {
                return true;
            }
        }
        return false;
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
