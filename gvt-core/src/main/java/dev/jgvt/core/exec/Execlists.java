package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.cmd.CommandScanner;
import dev.jgvt.core.cmd.CommandTable;
import dev.jgvt.core.cmd.Gen9RegisterPolicy;
import dev.jgvt.core.cmd.RecordedEvents;
import dev.jgvt.core.cmd.ScanOptions;
import dev.jgvt.core.cmd.ScanRejectedException;
import dev.jgvt.core.cmd.ShadowBatches;
import dev.jgvt.core.cmd.WorkloadContext;
import dev.jgvt.core.gtt.GgttShadow;
import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.core.gtt.PpgttRoot;
import dev.jgvt.core.gtt.PpgttShadower;
import dev.jgvt.core.gtt.ShadowPpgtt;
import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.mmio.ElspListener;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.vgpu.ResetListener;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Execlist submission of one attached vGPU (gvt-g.md §7.1-7.4): turns the guest's ELSP writes into
 * {@link Workload}s, prepares each for the host (reads the guest context, pins its shadow PPGTT, scans and
 * shadow-copies its ring slice and privileged batch buffers into host graphics memory) and completes it (writes
 * the ring head back into the guest context, injects the virtual events the scanner took out, emits the
 * context-status events and the context-switch interrupt).
 *
 * <p>Guest mistakes fail this vGPU only: an ELSP write that names no valid or a GGTT-only context, a context
 * image outside the vGPU's graphics memory, a workload the scanner rejects or whose address space cannot be
 * shadowed puts the vGPU in failsafe (GVT-g's "VM unhealthy"); a workload that hangs on the engine is dropped
 * with the rest of that engine's queue and the guest sees no completion, as after a GPU hang.
 *
 * <p>Threading: {@link #submitted} and the reset hooks run on trap threads under the vGPU's lock;
 * {@link #prepare} and {@link #complete} run on the engine's dispatcher thread and take the lock themselves.
 * The per-engine queues belong to the {@link GpuScheduler} and are touched under its lock only.
 */
public final class Execlists implements ElspListener, ResetListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Execlists.class);
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int ENGINES = Engine.values().length;
    private static final int MAX_HOST_RING = 2 << 20;
    private static final int MI_NOOP = 0;
    /** Commands one workload may execute on the host before it counts as hung. */
    static final int MAX_COMMANDS = 1 << 20;

    private final Vgpu vgpu;
    private final MmioSpace mmio;
    private final GuestMemory memory;
    private final GgttShadow ggtt;
    private final PpgttShadower ppgtt;
    private final HostGmSpace hostGm;
    private final GpuScheduler scheduler;
    private final GgttMemory ggttMemory;
    private final CommandScanner scanner;
    private final RecordedEvents events = new RecordedEvents();
    private final VirtualExeclist[] execlists = new VirtualExeclist[ENGINES];
    private final EngineHost[] hosts = new EngineHost[ENGINES];
    /** Per engine: context id → tail of its newest workload not completed yet (continuation head). */
    @SuppressWarnings("unchecked")
    private final Map<Integer, Integer>[] pendingTails = new Map[ENGINES];
    /** Per engine: bumped by every reset; a workload created before the last reset of its engine never runs. */
    private final long[] epochs = new long[ENGINES];
    /** Per engine: the workload between prepare and complete, or null. */
    private final Workload[] inFlight = new Workload[ENGINES];
    /** Per engine: queued workloads; guarded by the scheduler's lock. */
    @SuppressWarnings("unchecked")
    final ArrayDeque<Workload>[] queues = new ArrayDeque[ENGINES];
    private final Arena arena = Arena.ofShared();
    private final MemorySegment contextPage = arena.allocate(RingContext.BYTES, 8);
    private final MemorySegment dword = arena.allocate(4, 4);
    private final ExecStats.Counters stats = new ExecStats.Counters();
    private Workload scanning;
    private boolean closed;
    /** Workloads of this vGPU executing on a host engine right now; guarded by {@link #executionMonitor}. */
    private int executing;
    private final Object executionMonitor = new Object();

    /**
     * Submission for {@code vgpu}, registered with the scheduler. The vGPU's ELSP writes, resets and quiesce
     * requests reach it through the attachment it is part of.
     *
     * @param memory the guest's memory (context images, hardware status pages)
     * @param ggtt the vGPU's GGTT shadow (resolves the guest's graphics addresses)
     * @param pins the vGPU's pin cache
     * @param ppgtt the vGPU's shadow PPGTTs
     * @param hostGm host graphics memory for shadow rings, batches and status pages
     * @param scheduler the engine's scheduler, which this registers with
     */
    public Execlists(Vgpu vgpu, GuestMemory memory, GgttShadow ggtt, PinCache pins, PpgttShadower ppgtt,
            HostGmSpace hostGm, GpuScheduler scheduler) {
        this.vgpu = requireNonNull(vgpu, "vgpu is null");
        this.mmio = vgpu.mmio();
        this.memory = requireNonNull(memory, "memory is null");
        this.ggtt = requireNonNull(ggtt, "ggtt is null");
        this.ppgtt = requireNonNull(ppgtt, "ppgtt is null");
        this.hostGm = requireNonNull(hostGm, "hostGm is null");
        this.scheduler = requireNonNull(scheduler, "scheduler is null");
        this.ggttMemory = new GgttMemory(ggtt, requireNonNull(pins, "pins is null"), memory);
        this.scanner = new CommandScanner(CommandTable.gen9(), Gen9RegisterPolicy.load(), this::pdpLoad,
                ScanOptions.defaults());
        VirtualExeclist.Sink sink = new VirtualExeclist.Sink() {
            @Override
            public void hwspWrite(Engine engine, int index, int value) {
                writeHwsp(engine, index, value);
            }

            @Override
            public void contextSwitch(Engine engine) {
                vgpu.raise(IrqEvent.contextSwitch(engine));
            }
        };
        for (Engine e : Engine.values()) {
            pendingTails[e.ordinal()] = new HashMap<>();
            queues[e.ordinal()] = new ArrayDeque<>();
        }
        for (Engine e : Engine.GT2) {
            execlists[e.ordinal()] = new VirtualExeclist(e, mmio, sink);
        }
        vgpu.runLocked(() -> {
            for (Engine e : Engine.GT2) {
                execlists[e.ordinal()].reset();
            }
        });
        scheduler.register(this);
    }

    /** The vGPU this submits for. */
    public Vgpu vgpu() {
        return vgpu;
    }

    /** The scheduling weight (from the vGPU's type). */
    int weight() {
        return vgpu.type().weight();
    }

    /** What happened so far. */
    public ExecStats stats() {
        ExecStats[] result = new ExecStats[1];
        vgpu.runLocked(() -> result[0] = stats.snapshot(scheduler.usedNanos(this), executing()));
        return result[0] == null ? stats.snapshot(0, executing()) : result[0];
    }

    // ------------------------------------------------------------------------------------------ ELSP (trap thread)

    @Override
    public void submitted(Engine engine, long element0, long element1) {
        long started = System.nanoTime();
        try {
            submit(engine, element0, element1);
        } finally {
            stats.mediationNanos += System.nanoTime() - started;
        }
    }

    private void submit(Engine engine, long element0, long element1) {
        if (closed || vgpu.failsafe()) {
            stats.droppedSubmissions++;
            return;
        }
        if ((mmio.get(engine.mmioBase() + Gen9Registers.RING_MODE) & Gen9Registers.RING_MODE_RUN_LIST_ENABLE) == 0) {
            guestError(engine, "ELSP written while execlists are disabled in RING_MODE");
            return;
        }
        ContextDescriptor d0 = new ContextDescriptor(element0);
        ContextDescriptor d1 = new ContextDescriptor(element1);
        if (!d0.valid()) {
            guestError(engine, "ELSP element 0 is not valid: " + d0);
            return;
        }
        ContextDescriptor[] elements = d1.valid() ? new ContextDescriptor[] {d0, d1} : new ContextDescriptor[] {d0};
        int[] ids = new int[elements.length];
        for (int i = 0; i < elements.length; i++) {
            if (!elements[i].ppgtt()) {
                guestError(engine, "unexpected GGTT-only ELSP submission: " + elements[i]);
                return;
            }
            ids[i] = elements[i].contextId();
        }
        VirtualExeclist.Slot slot = new VirtualExeclist.Slot(ids);
        Workload[] created = new Workload[elements.length];
        for (int i = 0; i < elements.length; i++) {
            created[i] = createWorkload(engine, elements[i], slot, i == 0);
            if (created[i] == null) {
                return;
            }
        }
        for (Workload w : created) {
            stats.submissions++;
            scheduler.enqueue(this, w);
        }
    }

    /** GVT-g's workload creation (gvt-g.md §7.3); null after a guest error. */
    private Workload createWorkload(Engine engine, ContextDescriptor d, VirtualExeclist.Slot slot,
            boolean first) {
        int mode = d.addressingMode();
        if (mode != ContextDescriptor.LEGACY_64 && mode != ContextDescriptor.LEGACY_32) {
            guestError(engine, "unsupported addressing mode " + mode + " in " + d);
            return null;
        }
        long gpa = ggtt.gmaToGpa(d.lrca() + 4096);
        if (gpa < 0) {
            guestError(engine, String.format("the context image at GM 0x%x is not mapped in the vGPU's GGTT (%s)",
                    d.lrca() + 4096, d));
            return null;
        }
        try {
            memory.read(gpa, contextPage);
        } catch (GvtException e) {
            guestError(engine, "the context image of " + d + " is not guest RAM: " + e.getMessage());
            return null;
        }
        RingContext rc = RingContext.decode(contextPage);
        int size = rc.ringSize();
        int tail = rc.tailOffset();
        Integer continuing = pendingTails[engine.ordinal()].get(d.contextId());
        int head = continuing != null ? continuing : rc.headOffset();
        if (head >= size || tail >= size) {
            guestError(engine, "ring head 0x" + Integer.toHexString(head) + " or tail 0x" + Integer.toHexString(tail)
                    + " outside the ring of 0x" + Integer.toHexString(size) + " bytes (" + d + ")");
            return null;
        }
        PpgttRoot root;
        try {
            root = mode == ContextDescriptor.LEGACY_64 ? PpgttRoot.l4(rc.pdp(0))
                    : PpgttRoot.l3(rc.pdp(0), rc.pdp(1), rc.pdp(2), rc.pdp(3));
        } catch (IllegalArgumentException e) {
            guestError(engine, "unusable PPGTT root in " + d + ": " + e.getMessage());
            return null;
        }
        pendingTails[engine.ordinal()].put(d.contextId(), tail);
        return new Workload(this, engine, d, slot, first, gpa, rc, head, tail, root,
                epochs[engine.ordinal()]);
    }

    // ------------------------------------------------------------------------------- dispatch (dispatcher thread)

    /**
     * Prepares {@code w} for the host: schedule-in emulation, shadow PPGTT pinned, ring and batches scanned and
     * copied into host graphics memory. Returns the submission, or null when the workload failed (the reason is
     * in {@code w.failure}; the vGPU is in failsafe if the guest caused it).
     */
    HostSubmission prepare(Workload w) {
        HostSubmission[] result = new HostSubmission[1];
        vgpu.runLocked(() -> {
            long started = System.nanoTime();
            result[0] = prepareLocked(w);
            stats.mediationNanos += System.nanoTime() - started;
        });
        if (result[0] == null && w.failure == null) {
            w.failure = "the vGPU was destroyed";
        }
        return result[0];
    }

    private HostSubmission prepareLocked(Workload w) {
        if (closed || vgpu.failsafe()) {
            w.failure = closed ? "the vGPU was detached" : "the vGPU is in failsafe";
            return null;
        }
        if (w.epoch != epochs[w.engine.ordinal()]) {
            w.failure = "the engine was reset after the workload was submitted";
            stats.failed++;
            return null;
        }
        inFlight[w.engine.ordinal()] = w;
        if (w.first) {
            execlists[w.engine.ordinal()].scheduleIn(w.slot);
        }
        ShadowPpgtt mm = ppgtt.acquire(w.root);
        if (!ppgtt.pin(mm)) {
            String why = mm.error();
            ppgtt.release(mm);
            fail(w, "cannot shadow the PPGTT " + w.root + ": " + why, true);
            return null;
        }
        mm.takeFailure();
        w.mm = mm;
        EngineHost host = host(w.engine);
        events.clear();
        scanning = w;
        long started = System.nanoTime();
        long commandsBefore = scanner.commandsScanned();
        try {
            scanner.scanRing(new WorkloadContext(w.engine, vgpu.partition(), ggttMemory, null, host.hwsp.gma(), events),
                    w.context.ringStart(), w.context.ringSize(), w.head, w.tail);
        } catch (ScanRejectedException e) {
            stats.rejected++;
            fail(w, "workload rejected: " + e.getMessage(), true);
            return null;
        } finally {
            scanning = null;
            stats.scanNanos += System.nanoTime() - started;
        }
        stats.commandsScanned += scanner.commandsScanned() - commandsBefore;
        w.events = events.pending(w.engine);
        if (events.flips() > 0) {
            emulateFlip();
        }
        try {
            w.submission = shadowToHost(w, host);
        } catch (GvtException e) {
            fail(w, "no host memory for the shadow workload: " + e.getMessage(), false);
            return null;
        }
        stats.bytesScanned += w.scannedBytes;
        synchronized (executionMonitor) {
            executing++; // before the lock is released, so a reset or unmap from now on waits for the engine
        }
        return w.submission;
    }

    /** Copies the scanned ring slice and batches into host memory and points the batch starts at the copies. */
    private HostSubmission shadowToHost(Workload w, EngineHost host) {
        MemorySegment ring = scanner.shadowRing();
        long bytes = ring.byteSize();
        long padded = (bytes + 7) & ~7L;
        if (padded >= MAX_HOST_RING) {
            throw new GvtException(dev.jgvt.spi.ErrorCode.NO_SPACE, "a ring slice of " + bytes + " bytes");
        }
        int ringSize = Math.max(4096, Integer.highestOneBit((int) padded) << 1);
        host.ring = host.ensure(host.ring, ringSize, "shadow ring");
        MemorySegment hostRing = host.ring.buffer().segment();
        MemorySegment.copy(ring, 0, hostRing, 0, bytes);
        if (padded != bytes) {
            hostRing.set(DW, bytes, MI_NOOP);
        }
        long scanned = bytes;
        ShadowBatches batches = scanner.batches();
        long[] poolEnd = new long[3];
        for (int i = 0; i < batches.count(); i++) {
            if (!batches.ppgtt(i)) {
                int pool = batches.pool(i);
                poolEnd[pool] = Math.max(poolEnd[pool], batches.shadowOffset(i) + batches.size(i));
            }
        }
        for (int pool = ShadowBatches.FIRST_LEVEL_POOL; pool <= ShadowBatches.SECOND_LEVEL_POOL; pool++) {
            if (poolEnd[pool] > 0) {
                long size = (poolEnd[pool] + 4095) & ~4095L;
                host.pools[pool] = host.ensure(host.pools[pool], size, "shadow batches");
            }
        }
        for (int i = 0; i < batches.count(); i++) {
            if (batches.ppgtt(i)) {
                continue;
            }
            int pool = batches.pool(i);
            MemorySegment.copy(batches.shadow(i), 0, host.pools[pool].buffer().segment(), batches.shadowOffset(i),
                    batches.size(i));
            scanned += batches.size(i);
        }
        for (int i = 0; i < batches.count(); i++) {
            if (batches.ppgtt(i)) {
                continue;
            }
            long target = host.pools[batches.pool(i)].gma() + batches.shadowOffset(i);
            int parent = batches.parentBuffer(i);
            MemorySegment in = parent == ShadowBatches.RING ? hostRing : host.pools[parent].buffer().segment();
            long at = batches.parentOffset(i);
            in.set(DW, at + 4, (int) target);
            in.set(DW, at + 8, (int) (target >>> 32) & 0xFFFF);
        }
        w.scannedBytes = scanned;
        int levels = w.root.mode() == PpgttRoot.Mode.L4 ? 4 : 3;
        long[] shadow = w.mm.shadowRoots();
        long[] roots = new long[4];
        System.arraycopy(shadow, 0, roots, 0, shadow.length);
        return new HostSubmission(w.engine, host.ring.gma(), ringSize, 0, (int) padded, levels, roots, MAX_COMMANDS);
    }

    /**
     * Completes {@code w} after the host engine stopped (gvt-g.md §7.4): on success the guest's RING_HEAD becomes
     * the workload's tail, the recorded events are raised and the schedule-out is emulated (unless the next
     * queued workload continues the same context: a lite restore); a hang drops the engine's queue and the
     * guest sees no completion.
     *
     * @param done the host's report, or null when the workload never reached the host
     */
    void complete(Workload w, HostCompletion done) {
        vgpu.runLocked(() -> {
            long started = System.nanoTime();
            completeLocked(w, done);
            stats.mediationNanos += System.nanoTime() - started;
        });
    }

    private void completeLocked(Workload w, HostCompletion done) {
        int e = w.engine.ordinal();
        if (inFlight[e] == w) {
            inFlight[e] = null;
        }
        try {
            if (done != null) {
                stats.commandsExecuted += done.commands();
            }
            if (w.failure != null || done == null || closed) {
                if (done != null) {
                    stats.failed++; // reached the host, then failed by an engine reset or a detach
                }
                return;
            }
            if (w.mm.takeFailure() || loadedPdpsFailed(w)) {
                stats.failed++;
                w.failure = "guest RAM the workload used was unmapped while it ran";
                log.warn("vGPU {}: {} failed: {}", vgpu.id(), w, w.failure);
                return;
            }
            if (!done.completed()) {
                stats.hung++;
                w.failure = "GPU hang: " + done.error().orElseThrow();
                log.warn("vGPU {}: {} hung on the host engine: {}", vgpu.id(), w, done.error().orElseThrow());
                dropEngine(w.engine, "an earlier workload on the engine hung");
                return;
            }
            writeBackHead(w);
            raiseRecorded(w);
            Integer pendingTail = pendingTails[e].get(w.descriptor.contextId());
            if (pendingTail != null && pendingTail == w.tail) {
                pendingTails[e].remove(w.descriptor.contextId());
            }
            stats.completed++;
            Workload next = scheduler.peek(this, w.engine);
            // GVT-g: when the next queued submission starts with the same context, the guest expects a lite
            // restore (emitted by that submission's schedule-in), not a completion
            boolean liteRestore = next != null && next.first && next.descriptor.contextId() == w.descriptor.contextId();
            if (!liteRestore) {
                execlists[e].scheduleOut();
            }
        } finally {
            releaseShadows(w);
        }
    }

    private boolean loadedPdpsFailed(Workload w) {
        boolean failed = false;
        for (ShadowPpgtt mm : w.loadedPdps) {
            failed |= mm.takeFailure();
        }
        return failed;
    }

    private void releaseShadows(Workload w) {
        if (w.mm != null) {
            ppgtt.unpin(w.mm);
            ppgtt.release(w.mm);
            w.mm = null;
        }
        for (ShadowPpgtt mm : w.loadedPdps) {
            ppgtt.unpin(mm);
            ppgtt.release(mm);
        }
        w.loadedPdps.clear();
    }

    private void writeBackHead(Workload w) {
        dword.set(DW, 0, w.tail);
        try {
            memory.write(w.ringContextGpa + RingContext.HEAD_VALUE * 4L, dword);
        } catch (GvtException ex) {
            log.debug("vGPU {}: context image of {} vanished before completion: {}", vgpu.id(), w, ex.getMessage());
        }
    }

    private void raiseRecorded(Workload w) {
        int bits = w.events;
        if ((bits & RecordedEvents.USER_INTERRUPT) != 0) {
            vgpu.raise(IrqEvent.userInterrupt(w.engine));
        }
        if ((bits & RecordedEvents.PIPE_CONTROL_NOTIFY) != 0 && w.engine == Engine.RCS) {
            vgpu.raise(IrqEvent.notify(w.engine));
        }
        if ((bits & RecordedEvents.FLUSH_DW_NOTIFY) != 0 && w.engine != Engine.RCS) {
            vgpu.raise(IrqEvent.notify(w.engine));
        }
    }

    /** MI_DISPLAY_FLIP: the flip is applied to the virtual plane as the guest's own register writes would. */
    private void emulateFlip() {
        if (events.lastFlipPlane() != 0) {
            return; // only plane A's primary is modelled
        }
        mmio.write(Gen9Registers.PLANE_STRIDE_1_A, 4, events.lastFlipStride());
        mmio.write(Gen9Registers.PLANE_SURF_1_A, 4, events.lastFlipSurface());
    }

    // ----------------------------------------------------------------------------------------------- failure

    private void guestError(Engine engine, String why) {
        stats.rejected++;
        vgpu.enterFailsafe(engine + ": " + why);
    }

    private void fail(Workload w, String why, boolean guestCaused) {
        w.failure = why;
        if (guestCaused) {
            vgpu.enterFailsafe(w.engine + " " + w + ": " + why);
        } else {
            stats.failed++;
            log.warn("vGPU {}: {} failed: {}", vgpu.id(), w, why);
        }
    }

    /** Drops queued work of {@code engine}; an in-flight workload there completes without events. */
    private void dropEngine(Engine engine, String why) {
        stats.failed += scheduler.drop(this, engine);
        Workload running = inFlight[engine.ordinal()];
        if (running != null && running.failure == null) {
            running.failure = why;
        }
        pendingTails[engine.ordinal()].clear();
    }

    // ------------------------------------------------------------------------------------------------ resets

    private int executing() {
        synchronized (executionMonitor) {
            return executing;
        }
    }

    /** The host engine stopped executing a workload {@link #prepare} returned a submission for. */
    void executionEnded() {
        synchronized (executionMonitor) {
            executing--;
            executionMonitor.notifyAll();
        }
    }

    /**
     * Waits (under the vGPU's lock, from a reset or a DMA unmap) until no workload of this vGPU executes on a
     * host engine: the engines finish on their own (every workload is bounded by {@link #MAX_COMMANDS}); their
     * completion then waits for the lock and finds the workload failed by the reset or unmap.
     */
    public void quiesce() {
        synchronized (executionMonitor) {
            while (executing > 0) {
                try {
                    executionMonitor.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void deviceReset() {
        for (Engine e : Engine.GT2) {
            resetEngine(e);
        }
    }

    @Override
    public void engineReset(int domainMask) {
        for (Engine e : Engine.GT2) {
            if ((domainMask & Gen9Registers.GDRST_FULL) != 0 || (domainMask & e.resetDomain()) != 0) {
                resetEngine(e);
            }
        }
    }

    private void resetEngine(Engine e) {
        epochs[e.ordinal()]++;
        dropEngine(e, "engine reset");
        execlists[e.ordinal()].reset();
    }

    // -------------------------------------------------------------------------------------------- helpers

    private boolean pdpLoad(Engine engine, long[] guestRoots, int written, long[] shadowRoots) {
        Workload w = scanning;
        if (w == null) {
            return false;
        }
        PpgttRoot root;
        try {
            if (w.root.mode() == PpgttRoot.Mode.L4) {
                if ((written & 0b11) != 0b11) {
                    return false;
                }
                root = PpgttRoot.l4(guestRoots[0]);
            } else {
                if (written != 0xFF) {
                    return false;
                }
                root = PpgttRoot.l3(guestRoots[0], guestRoots[1], guestRoots[2], guestRoots[3]);
            }
        } catch (IllegalArgumentException e) {
            return false;
        }
        ShadowPpgtt mm = ppgtt.acquire(root);
        if (!ppgtt.pin(mm)) {
            ppgtt.release(mm);
            return false;
        }
        mm.takeFailure();
        w.loadedPdps.add(mm);
        java.util.Arrays.fill(shadowRoots, 0);
        long[] shadow = mm.shadowRoots();
        for (int i = 0; i < shadow.length; i++) {
            shadowRoots[i] = shadow[i];
        }
        return true;
    }

    private void writeHwsp(Engine engine, int index, int value) {
        long hwsp = mmio.get(engine.mmioBase() + Gen9Registers.RING_HWS_PGA) & 0xFFFF_F000L;
        long gpa = ggtt.gmaToGpa(hwsp);
        if (gpa < 0) {
            stats.hwspMisses++;
            return;
        }
        dword.set(DW, 0, value);
        try {
            memory.write(gpa + index * 4L, dword);
        } catch (GvtException e) {
            stats.hwspMisses++;
        }
    }

    private EngineHost host(Engine engine) {
        EngineHost h = hosts[engine.ordinal()];
        if (h == null) {
            h = new EngineHost(hostGm.map(4096, "vGPU " + vgpu.id() + " " + engine + " status page"));
            hosts[engine.ordinal()] = h;
        }
        return h;
    }

    /** Host memory of one engine of this vGPU: status page, shadow ring, batch pools. */
    private final class EngineHost {
        final HostGmSpace.Mapping hwsp;
        HostGmSpace.Mapping ring;
        final HostGmSpace.Mapping[] pools = new HostGmSpace.Mapping[3];

        EngineHost(HostGmSpace.Mapping hwsp) {
            this.hwsp = hwsp;
        }

        HostGmSpace.Mapping ensure(HostGmSpace.Mapping current, long bytes, String purpose) {
            if (current != null && current.size() >= bytes) {
                return current;
            }
            long size = Math.max(bytes, current == null ? 0 : current.size() * 2);
            HostGmSpace.Mapping next = hostGm.map((size + 4095) & ~4095L, "vGPU " + vgpu.id() + " " + purpose);
            if (current != null) {
                current.close();
            }
            return next;
        }

        void close() {
            hwsp.close();
            if (ring != null) {
                ring.close();
            }
            for (HostGmSpace.Mapping pool : pools) {
                if (pool != null) {
                    pool.close();
                }
            }
        }
    }

    /**
     * Stops submission for this vGPU (detach): unregisters from the scheduler, which drops queued work and waits
     * for in-flight work to complete, then frees the host memory and shadow references. Idempotent.
     */
    @Override
    public void close() {
        boolean[] first = {false};
        vgpu.runLocked(() -> {
            first[0] = !closed;
            closed = true;
        });
        if (!first[0]) {
            return;
        }
        scheduler.unregister(this);
        for (EngineHost h : hosts) {
            if (h != null) {
                h.close();
            }
        }
        scanner.close();
        arena.close();
    }

    @Override
    public String toString() {
        return "execlists of vGPU " + vgpu.id();
    }
}
