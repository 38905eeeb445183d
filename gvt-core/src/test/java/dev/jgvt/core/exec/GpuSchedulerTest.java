package dev.jgvt.core.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.gtt.PpgttRoot;
import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.host.EngineState;
import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The scheduler's threading with fake vGPUs and a fake host GPU: where a workload runs (inline on the submitting
 * thread or on a dispatcher), that a busy engine or another owner never holds up the submitting thread, that the
 * completion happens on the thread that saw the execution end, and that racing inline and dispatched runs lose no
 * workload, reorder none and never overlap on an engine.
 */
final class GpuSchedulerTest {
    private static final long TIMEOUT_S = 20;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final FakeGpu gpu = new FakeGpu();
    private GpuScheduler scheduler;

    @AfterEach
    void close() {
        gpu.releaseAll();
        if (scheduler != null) {
            scheduler.close();
        }
    }

    @Test
    void aWorkloadForAnIdleEngineOfTheOwnerRunsAndCompletesOnTheSubmittingThread() {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        Workload w = a.submit(Engine.BCS);
        assertThat(a.completedOn).containsExactly(Map.entry(w, Thread.currentThread()));
        assertThat(gpu.executedOn).containsExactly(Thread.currentThread());
        assertThat(a.lockHeldAtComplete).as("the trap's lock was released before the inline run").containsExactly(false);
        assertThat(gpu.lockHeldAtExecute).containsExactly(false);
        assertThat(scheduler.starts()).isEqualTo(new GpuScheduler.Starts(1, 0, 0));
    }

    /**
     * Two vGPUs taking turns on an idle GPU, as the submit bench does: the GPU goes to nobody after each workload and
     * back to the next submitter, and none of those switches may wake a dispatcher that has nothing to take.
     */
    @Test
    void ownershipSwitchesOfAnIdleGpuWakeNoDispatcher() throws InterruptedException {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        FakeVgpu b = new FakeVgpu(2, 4);
        for (int i = 0; i < 50; i++) {
            a.submit(Engine.BCS);
            b.submit(i % 2 == 0 ? Engine.RCS : Engine.BCS);
        }
        Thread.sleep(200); // a dispatcher woken by mistake counts its idle wake-up as soon as it runs
        assertThat(scheduler.starts()).isEqualTo(new GpuScheduler.Starts(100, 0, 0));
        assertThat(scheduler.switches()).as("the GPU changed hands at every submission").isGreaterThanOrEqualTo(100);
        assertThat(scheduler.idleWakeups()).isZero();
    }

    @Test
    void withoutInlineRunsTheDispatcherTakesEveryWorkload() throws InterruptedException {
        scheduler = new GpuScheduler(gpu, now::get, false);
        FakeVgpu a = new FakeVgpu(1, 4);
        Workload w = a.submit(Engine.BCS);
        Thread ranOn = a.awaitCompleted(w);
        assertThat(ranOn.getName()).isEqualTo("gvt-dispatch-bcs");
        assertThat(scheduler.starts()).isEqualTo(new GpuScheduler.Starts(0, 1, 0));
    }

    @Test
    void bothElementsOfOneElspWriteAreQueuedBeforeTheFirstRunsAndBothRunOnTheSubmitterWithinItsBudget() {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        List<Workload> both = a.submit(Engine.RCS, 2);
        assertThat(a.queuedBehindAtComplete).as("the second was queued when the first completed").containsExactly(1, 0);
        assertThat(a.completedOn).containsExactly(Map.entry(both.get(0), Thread.currentThread()),
                Map.entry(both.get(1), Thread.currentThread()));
        assertThat(scheduler.starts()).isEqualTo(new GpuScheduler.Starts(2, 0, 0));
    }

    @Test
    void whatIsLeftWhenTheInlineBudgetIsSpentGoesToTheDispatcherAndLaterWorkQueuesBehindIt() throws Exception {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        Thread submitter = Thread.currentThread();
        gpu.onExecute = s -> {
            if (Thread.currentThread() == submitter) {
                now.addAndGet(GpuScheduler.INLINE_BUDGET_NANOS); // the inline run spends the whole budget
            }
        };
        gpu.block(Engine.BCS, t -> t.getName().startsWith("gvt-dispatch-"));
        List<Workload> pair = a.submit(Engine.BCS, 2);
        gpu.awaitBlocked(Engine.BCS);
        assertThat(a.completedOn).containsOnlyKeys(pair.get(0));
        Workload third = a.submit(Engine.BCS); // returns at once although the engine is busy
        assertThat(a.completedOn).containsOnlyKeys(pair.get(0));
        gpu.release(Engine.BCS);
        assertThat(a.awaitCompleted(pair.get(1)).getName()).isEqualTo("gvt-dispatch-bcs");
        assertThat(a.awaitCompleted(third).getName()).isEqualTo("gvt-dispatch-bcs");
        assertThat(a.outOfOrder).isZero();
        assertThat(scheduler.starts()).isEqualTo(new GpuScheduler.Starts(1, 2, 1));
    }

    @Test
    void anInlineRunsHostSliceIsCutToTheBudgetAndAPreemptedWorkloadIsResumedByTheDispatcher() throws Exception {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        gpu.needsNanos = 2 * GpuScheduler.INLINE_BUDGET_NANOS;
        gpu.onExecute = s -> now.addAndGet(s.sliceNanos()); // the slice runs to its end
        Workload w = a.submit(Engine.VECS);
        assertThat(gpu.slices.getFirst()).isEqualTo(GpuScheduler.INLINE_BUDGET_NANOS);
        assertThat(a.awaitCompleted(w).getName()).isEqualTo("gvt-dispatch-vecs");
        assertThat(a.resumedOn).extracting(Thread::getName).containsExactly("gvt-dispatch-vecs");
        assertThat(gpu.slices).containsExactly(GpuScheduler.INLINE_BUDGET_NANOS, 1_000_000L);
        assertThat(scheduler.starts()).isEqualTo(new GpuScheduler.Starts(1, 1, 1));
    }

    @Test
    void workSubmittedWhileTheDispatcherResumesASuspendedWorkloadRunsAfterIt() throws Exception {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        gpu.needsNanos = 2 * GpuScheduler.INLINE_BUDGET_NANOS;
        gpu.onExecute = s -> now.addAndGet(s.sliceNanos());
        gpu.block(Engine.VECS, t -> t.getName().startsWith("gvt-dispatch-"));
        Workload first = a.submit(Engine.VECS); // preempted inline, then held in the dispatcher's resumed slice
        gpu.awaitBlocked(Engine.VECS);
        gpu.needsNanos = 0;
        Workload second = a.submit(Engine.VECS);
        gpu.release(Engine.VECS);
        a.awaitCompleted(second);
        assertThat(a.completedOn.keySet()).containsExactly(first, second);
        assertThat(a.outOfOrder).isZero();
    }

    @Test
    void anInlineRunHoldsNoLockSoAnotherVcpuOfTheSameGuestSubmitsMeanwhile() throws Exception {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        gpu.block(Engine.BCS, t -> t.getName().equals("vcpu-0"));
        Thread vcpu0 = Thread.ofPlatform().name("vcpu-0").start(() -> a.submit(Engine.BCS));
        gpu.awaitBlocked(Engine.BCS);
        Workload sameEngine = a.submit(Engine.BCS); // queued behind the running one; returns at once
        Workload otherEngine = a.submit(Engine.RCS); // an idle engine of the owner: runs here
        assertThat(a.completedOn).containsOnlyKeys(otherEngine);
        assertThat(a.completedOn.get(otherEngine)).isSameAs(Thread.currentThread());
        gpu.release(Engine.BCS);
        vcpu0.join(TimeUnit.SECONDS.toMillis(TIMEOUT_S));
        assertThat(a.awaitCompleted(sameEngine)).as("continued by vcpu-0 within its budget").isSameAs(vcpu0);
        assertThat(scheduler.starts()).isEqualTo(new GpuScheduler.Starts(3, 0, 0));
    }

    @Test
    void anotherVgpusWorkWaitsForTheOwnerOnADispatcherWithoutHoldingUpItsSubmitter() throws Exception {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        FakeVgpu b = new FakeVgpu(2, 4);
        gpu.block(Engine.RCS, t -> true);
        Thread owner = Thread.ofPlatform().name("vcpu-a").start(() -> a.submit(Engine.RCS));
        gpu.awaitBlocked(Engine.RCS);
        Workload other = b.submit(Engine.VCS); // another engine, but a owns the GPU
        assertThat(b.completedOn).isEmpty();
        gpu.release(Engine.RCS);
        owner.join(TimeUnit.SECONDS.toMillis(TIMEOUT_S));
        assertThat(b.awaitCompleted(other).getName()).isEqualTo("gvt-dispatch-vcs");
        assertThat(scheduler.switches()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void unregisterWaitsForAnInlineRunAndLaterSubmissionsOfOthersRun() throws Exception {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        FakeVgpu b = new FakeVgpu(2, 4);
        gpu.block(Engine.BCS, t -> true);
        Thread owner = Thread.ofPlatform().name("vcpu-a").start(() -> a.submit(Engine.BCS));
        gpu.awaitBlocked(Engine.BCS);
        CountDownLatch unregistered = new CountDownLatch(1);
        Thread detach = Thread.ofPlatform().start(() -> {
            scheduler.unregister(a);
            unregistered.countDown();
        });
        assertThat(unregistered.await(100, TimeUnit.MILLISECONDS)).isFalse();
        gpu.release(Engine.BCS);
        assertThat(unregistered.await(TIMEOUT_S, TimeUnit.SECONDS)).isTrue();
        owner.join();
        detach.join();
        Workload w = b.submit(Engine.BCS);
        assertThat(b.completedOn).containsKey(w);
    }

    /**
     * A vGPU registered long before its guest's driver probes: its first workload runs right after a stage-0 balance
     * and takes 150 ms on the host (a cold first execution), 100 ms more than its slice. Its next submission, with
     * the GPU idle, must run at once (inline) rather than wait for balance stages to pay the debt back: the priority
     * window starts at the first submission, not at registration.
     */
    @Test
    void aVgpusFirstSubmissionsRunAtOnceEvenWhenItsFirstWorkloadPutItInDebt() throws Exception {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        new FakeVgpu(2, 4);
        // 10.1 s after registration (the scheduler's clock started at 1 s): a stage-0 balance, 50 ms each
        now.addAndGet(10_100_000_000L);
        gpu.onExecute = s -> now.addAndGet(150_000_000L);
        Workload first = a.submit(Engine.RCS);
        assertThat(a.completedOn).containsKey(first);
        gpu.onExecute = s -> { };
        Workload second = a.submit(Engine.RCS);
        assertThat(a.completedOn).as("ran inline at once, in debt").containsKey(second);
        assertThat(scheduler.usedNanos(a)).isEqualTo(150_000_000L);
    }

    /**
     * An owner whose work completed keeps the GPU while no other vGPU has work (ADR 0018): its submissions on an idle
     * GPU cause no ownership switch (before, two each: to nobody at completion and back at the next ELSP write), and
     * it is charged only while it has work, not for the idle time in between.
     */
    @Test
    void anOwnerLeftWithoutWorkKeepsTheGpuUnchargedUntilItSubmitsAgain() {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        new FakeVgpu(2, 4);
        gpu.onExecute = s -> now.addAndGet(10_000L);
        for (int i = 0; i < 10; i++) {
            a.submit(i % 2 == 0 ? Engine.BCS : Engine.RCS);
            now.addAndGet(5_000_000L); // idle between submissions
        }
        assertThat(scheduler.starts()).isEqualTo(new GpuScheduler.Starts(10, 0, 0));
        assertThat(scheduler.switches()).as("one switch: to a at its first submission").isEqualTo(1);
        assertThat(scheduler.usedNanos(a)).as("charged for its executions only").isEqualTo(10 * 10_000L);
    }

    /** The rule's limit: another vGPU that submits takes the GPU from an idle owner at once (inline, no wait). */
    @Test
    void anotherVgpusSubmissionTakesTheGpuFromAnIdleOwnerAtOnce() {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        FakeVgpu b = new FakeVgpu(2, 4);
        a.submit(Engine.BCS);
        Workload w = b.submit(Engine.BCS);
        assertThat(b.completedOn).containsEntry(w, Thread.currentThread());
        Workload back = a.submit(Engine.RCS);
        assertThat(a.completedOn).containsEntry(back, Thread.currentThread());
        assertThat(scheduler.switches()).isEqualTo(3);
        assertThat(scheduler.starts()).isEqualTo(new GpuScheduler.Starts(3, 0, 0));
    }

    /**
     * Keeping the GPU does not let an idle owner skip the policy: past its priority window and in debt, its next
     * submission waits for the balance (the policy is not work-conserving), as it did when it had handed the GPU back.
     */
    @Test
    void anIdleOwnerInDebtWaitsForItsBalanceWhenItSubmitsAgain() throws Exception {
        scheduler = new GpuScheduler(gpu, now::get, true);
        FakeVgpu a = new FakeVgpu(1, 4);
        new FakeVgpu(2, 4);
        a.submit(Engine.RCS); // starts a's priority window
        // past the window, 5 ms after a stage-0 balance (the clock started at 1 s): a's balance is 50 ms
        now.addAndGet(TimeSlicePolicy.PRIORITY_WINDOW_NANOS + 105_000_000L);
        gpu.onExecute = s -> now.addAndGet(150_000_000L); // 100 ms more than its 50 ms slice
        a.submit(Engine.RCS);
        gpu.onExecute = s -> { };
        Workload inDebt = a.submit(Engine.RCS);
        assertThat(a.completedOn).as("not run inline while in debt").doesNotContainKey(inDebt);
        now.addAndGet(2 * TimeSlicePolicy.BALANCE_PERIOD_NANOS); // the balance stages pay the debt back
        assertThat(a.awaitCompleted(inDebt).getName()).isEqualTo("gvt-dispatch-rcs");
    }

    /**
     * Several submitting threads per vGPU (vCPUs), two vGPUs, workloads of random length, every inline slice
     * preempted and a real clock, so that inline runs, suspensions and resumptions (inline or on a dispatcher),
     * budget hand-offs, dispatched runs and ownership switches interleave: every workload completes exactly once,
     * in submission order per vGPU and engine, and no two ever execute on one engine at a time.
     */
    @Test
    void racingInlineAndDispatchedRunsLoseNothingReorderNothingAndNeverOverlap() throws Exception {
        scheduler = new GpuScheduler(gpu, System::nanoTime, true);
        gpu.spinNanos = new Random(15).longs(4096, 0, 3 * GpuScheduler.INLINE_BUDGET_NANOS / 2).toArray();
        gpu.needsNanos = GpuScheduler.INLINE_BUDGET_NANOS + 1;
        List<FakeVgpu> vgpus = List.of(new FakeVgpu(1, 8), new FakeVgpu(2, 2));
        int perThread = 300;
        List<Thread> threads = new ArrayList<>();
        for (FakeVgpu v : vgpus) {
            for (int t = 0; t < 2; t++) {
                Engine[] engines = t == 0 ? new Engine[] {Engine.RCS, Engine.BCS} : new Engine[] {Engine.BCS, Engine.VECS};
                threads.add(Thread.ofPlatform().name("vcpu-" + v.id + "-" + t).start(() -> {
                    for (int i = 0; i < perThread; i++) {
                        v.submit(engines[i % 2], 1 + i % 2);
                    }
                }));
            }
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(t.isAlive()).isFalse();
        }
        for (FakeVgpu v : vgpus) {
            v.awaitAll();
            assertThat(v.outOfOrder).as("vGPU %d completions out of order", v.id).isZero();
            assertThat(v.completedOn).hasSize(v.submitted.get());
        }
        assertThat(gpu.overlaps).isZero();
        assertThat(gpu.lockHeldAtExecute).as("no vGPU lock held while a host engine executes").doesNotContain(true);
        GpuScheduler.Starts starts = scheduler.starts();
        long workloads = 2L * 2 * perThread * 3 / 2;
        assertThat(vgpus.get(0).completedOn.size() + vgpus.get(1).completedOn.size()).isEqualTo(workloads);
        assertThat(starts.inline() + starts.dispatched()).as("every workload starts, some twice (resumed)")
                .isGreaterThan(workloads);
        assertThat(starts.inline()).isPositive();
        assertThat(starts.dispatched()).isPositive();
    }

    // ----------------------------------------------------------------------------------------- test doubles

    /** A vGPU's submission: its own lock held around ELSP handling, prepare and complete, as Execlists does. */
    private final class FakeVgpu implements ScheduledVgpu {
        final int id;
        final int weight;
        final ReentrantLock lock = new ReentrantLock();
        final Map<Workload, Thread> completedOn = Collections.synchronizedMap(new java.util.LinkedHashMap<>());
        final List<Boolean> lockHeldAtComplete = Collections.synchronizedList(new ArrayList<>());
        final List<Integer> queuedBehindAtComplete = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger submitted = new AtomicInteger();
        final java.util.concurrent.atomic.AtomicReferenceArray<Workload> suspended =
                new java.util.concurrent.atomic.AtomicReferenceArray<>(Engine.values().length);
        final List<Thread> resumedOn = Collections.synchronizedList(new ArrayList<>());
        final Map<Engine, AtomicInteger> lastCompleted = new ConcurrentHashMap<>();
        final Map<Engine, AtomicInteger> sequence = new ConcurrentHashMap<>();
        int outOfOrder;

        FakeVgpu(int id, int weight) {
            this.id = id;
            this.weight = weight;
            gpu.heldLocks.add(lock);
            scheduler.register(this);
        }

        Workload submit(Engine engine) {
            return submit(engine, 1).getFirst();
        }

        /** An ELSP write of {@code elements} workloads, as the trap thread handles it. */
        List<Workload> submit(Engine engine, int elements) {
            List<Workload> created = new ArrayList<>();
            lock.lock();
            try {
                for (int i = 0; i < elements; i++) {
                    int seq = sequence.computeIfAbsent(engine, e -> new AtomicInteger()).incrementAndGet();
                    Workload w = new Workload(this, engine, new ContextDescriptor(1L | 1 << 8 | 3 << 3 | (long) seq << 32),
                            new VirtualExeclist.Slot(seq), i == 0, 0, new RingContext(0, 0, 0, 0, 0, new long[4], 0), 0,
                            seq, PpgttRoot.l4(0x1000), 0);
                    created.add(w);
                    submitted.incrementAndGet();
                }
                scheduler.submitted(this, engine, scheduler.now(), created.toArray(Workload[]::new));
            } finally {
                lock.unlock();
                scheduler.runClaimed(); // as Vgpu.write does after a BAR write, without the vGPU's lock
            }
            return created;
        }

        @Override
        public int id() {
            return id;
        }

        @Override
        public int weight() {
            return weight;
        }

        @Override
        public HostSubmission prepare(Workload w) {
            lock.lock();
            try {
                w.submission = new HostSubmission(w.engine, 0, 4096, 0, 0, 4, new long[4], 1, 1_000_000, null);
                return w.submission;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void executionEnded() {}

        @Override
        public HostSubmission resume(Workload w) {
            lock.lock();
            try {
                resumedOn.add(Thread.currentThread());
                return w.submission.resume(w.state);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean suspend(Workload w, HostCompletion slice) {
            lock.lock();
            try {
                w.state = slice.state();
                suspended.set(w.engine.ordinal(), w);
                return true;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public Workload takeSuspended(int engine) {
            return suspended.getAndSet(engine, null);
        }

        @Override
        public boolean hasSuspended() {
            for (int i = 0; i < suspended.length(); i++) {
                if (suspended.get(i) != null) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean hasSuspended(int engine) {
            return suspended.get(engine) != null;
        }

        @Override
        public void mediated(long nanos) {}

        @Override
        public void complete(Workload w, HostCompletion done) {
            lock.lock();
            try {
                lockHeldAtComplete.add(lock.getHoldCount() > 1);
                queuedBehindAtComplete.add(scheduler.peek(this, w.engine) == null ? 0 : 1);
                int last = lastCompleted.computeIfAbsent(w.engine, e -> new AtomicInteger()).getAndSet(w.tail);
                if (w.tail != last + 1 || done == null) {
                    outOfOrder++;
                }
                completedOn.put(w, Thread.currentThread());
            } finally {
                lock.unlock();
            }
            synchronized (this) {
                notifyAll();
            }
        }

        synchronized Thread awaitCompleted(Workload w) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
            while (!completedOn.containsKey(w) && System.nanoTime() < deadline) {
                wait(10);
            }
            assertThat(completedOn).as("%s completed", w).containsKey(w);
            return completedOn.get(w);
        }

        synchronized void awaitAll() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (completedOn.size() < submitted.get() && System.nanoTime() < deadline) {
                wait(10);
            }
        }

        @Override
        public String toString() {
            return "vGPU " + id;
        }
    }

    /** Engines that execute on the caller's thread, optionally blocked until released or spinning a while. */
    private static final class FakeGpu implements HostGpu {
        final List<Thread> executedOn = Collections.synchronizedList(new ArrayList<>());
        final List<Boolean> lockHeldAtExecute = Collections.synchronizedList(new ArrayList<>());
        /** The vGPUs' locks, none of which may be held by a thread executing on the host. */
        final List<ReentrantLock> heldLocks = new java.util.concurrent.CopyOnWriteArrayList<>();
        final Map<Engine, CountDownLatch> gates = new ConcurrentHashMap<>();
        final Map<Engine, java.util.function.Predicate<Thread>> gated = new ConcurrentHashMap<>();
        volatile java.util.function.Consumer<HostSubmission> onExecute = s -> { };
        final Map<Engine, CountDownLatch> blocked = new ConcurrentHashMap<>();
        final Map<Engine, AtomicInteger> running = new ConcurrentHashMap<>();
        final AtomicInteger calls = new AtomicInteger();
        volatile long[] spinNanos = new long[1];
        /** A workload needs this much engine time in all; a shorter slice ends preempted (0: never). */
        volatile long needsNanos;
        final List<Long> slices = Collections.synchronizedList(new ArrayList<>());
        volatile int overlaps;

        /** The next execution on {@code engine} by a thread {@code which} accepts waits until {@link #release}. */
        void block(Engine engine, java.util.function.Predicate<Thread> which) {
            gated.put(engine, which);
            blocked.put(engine, new CountDownLatch(1));
            gates.put(engine, new CountDownLatch(1));
        }

        void awaitBlocked(Engine engine) throws InterruptedException {
            assertThat(blocked.get(engine).await(TIMEOUT_S, TimeUnit.SECONDS)).isTrue();
        }

        void release(Engine engine) {
            CountDownLatch gate = gates.remove(engine);
            if (gate != null) {
                gate.countDown();
            }
        }

        void releaseAll() {
            for (Engine e : Engine.values()) {
                release(e);
            }
        }

        @Override
        public HostCompletion execute(HostSubmission submission) {
            Engine engine = submission.engine();
            if (running.computeIfAbsent(engine, e -> new AtomicInteger()).incrementAndGet() != 1) {
                overlaps++;
            }
            try {
                executedOn.add(Thread.currentThread());
                lockHeldAtExecute.add(heldLocks.stream().anyMatch(ReentrantLock::isHeldByCurrentThread));
                onExecute.accept(submission);
                CountDownLatch gate = gates.get(engine);
                if (gate != null && gated.get(engine).test(Thread.currentThread())) {
                    blocked.get(engine).countDown();
                    try {
                        gate.await(TIMEOUT_S, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                slices.add(submission.sliceNanos());
                if (needsNanos > 0 && submission.resumeAt() == null && submission.sliceNanos() < needsNanos) {
                    return new HostCompletion(0, 1, 0, Optional.empty(), new EngineState(0, 0, 0, 0, false, 0, false, new long[16]));
                }
                long[] spins = spinNanos;
                long spin = spins[Math.floorMod(calls.getAndIncrement(), spins.length)];
                long until = System.nanoTime() + spin;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                return new HostCompletion(submission.tail(), 1, 0, Optional.empty());
            } finally {
                running.get(engine).decrementAndGet();
            }
        }

        @Override
        public int ggttEntries() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void ggttWrite(int index, long entry) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long ggttRead(int index) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long dmaMap(MemorySegment pages) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void dmaUnmap(long deviceAddress) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean supportsHugePages() {
            return false;
        }

        @Override
        public HostBuffer allocate(long bytes, String purpose) {
            throw new UnsupportedOperationException();
        }
    }
}
