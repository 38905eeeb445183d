package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.gtt.GgttShadow;
import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.core.gtt.PpgttShadower;
import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.mmio.ElspListener;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.vgpu.ResetListener;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.spi.GuestMemory;
import java.lang.foreign.Arena;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Execlist submission of one attached vGPU (gvt-g.md §7.1-7.4), as a pipeline of three stages this class runs
 * and coordinates: {@link ElspDecoder} turns the guest's ELSP writes into {@link Workload}s, which it hands to the
 * {@link GpuScheduler}'s run queues; {@link WorkloadPreparer} shadows a workload for the host when the scheduler
 * dispatches it; {@link WorkloadCompleter} emulates its completion. Here: the engines' {@link VirtualExeclist}s
 * (schedule-in at prepare), per-engine reset epochs and the workload in flight, failure, resets and quiescing.
 * A workload the host engine stopped between slices waits in {@link HeldWorkloads}, which also shows the guest
 * where the engine is; {@link HostExecutions} counts what executes on the host, which {@link #quiesce} waits
 * for; {@link ScheduledExeclists} is this class as the scheduler sees it.
 *
 * <p>Guest mistakes fail this vGPU only: an ELSP write that names no valid or a GGTT-only context, a context
 * image outside the vGPU's graphics memory, a workload the scanner rejects or whose address space cannot be
 * shadowed puts the vGPU in failsafe (GVT-g's "VM unhealthy"); a workload that hangs on the engine is dropped
 * with the rest of that engine's queue and the guest sees no completion, as after a GPU hang.
 *
 * <p>Threading: {@link #submitted} and the reset hooks run on trap threads under the vGPU's lock;
 * {@link #prepare} and {@link #complete} run on the thread that runs the workload — the trap thread itself when
 * the scheduler runs it inline ({@link #afterWrite}, after the trap released the lock), otherwise the engine's
 * dispatcher — and take the lock themselves. Lock order: the vGPU's lock, then the scheduler's (never the
 * reverse; the scheduler asks {@link HeldWorkloads} lock-free), then {@link HostExecutions}' monitor.
 */
public final class Execlists implements ElspListener, ResetListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Execlists.class);
    /**
     * Commands a workload may execute on the host without reaching an arbitration point (MI_ARB_CHECK, a batch
     * buffer start) before it counts as hung: a runaway the engine can never slice.
     */
    static final int MAX_COMMANDS = 1 << 20;
    /**
     * The host engine's slice: after this long it stops the workload at its next arbitration point. 1 ms; the
     * system property {@code jgvt.sliceNanos} (positive) overrides it, to force many slices when reproducing a
     * problem that only shows between slices.
     */
    static final long SLICE_NANOS = Math.max(1, Long.getLong("jgvt.sliceNanos", 1_000_000L));
    /**
     * Wall-clock time from a workload's first slice after which it counts as hung even though it keeps reaching
     * arbitration points. Far beyond i915's own reset: its heartbeat resets an engine whose request does not
     * complete within a few 2.5 s heartbeat intervals, which took about 20 s of wall clock under TCG on a loaded
     * host; a host bound near that struck first and dropped the innocent requests queued behind the hang, which
     * i915 would have replayed after its reset. Between slices other vGPUs run, so a long bound costs them nothing.
     */
    static final long MAX_RUN_NANOS = 120_000_000_000L;

    private final Vgpu vgpu;
    private final GpuScheduler scheduler;
    private final VirtualExeclist[] execlists = new VirtualExeclist[Engine.values().length];
    /** Per engine: bumped by every reset; a workload created before the last reset of its engine never runs. */
    private final long[] epochs = new long[Engine.values().length];
    /** Per engine: the workload between prepare and complete, or null. */
    private final Workload[] inFlight = new Workload[Engine.values().length];
    /** Per engine: the unfinished workload between two slices, waiting to be resumed, as the guest sees it. */
    private final HeldWorkloads held;
    private final Arena arena = Arena.ofShared();
    private final ExecStats.Counters stats = new ExecStats.Counters();
    /** Time spent preparing, resuming and completing workloads, as the scheduler's slice runner measured it. */
    private final java.util.concurrent.atomic.AtomicLong sliceMediationNanos = new java.util.concurrent.atomic.AtomicLong();
    private final ElspDecoder decoder;
    private final WorkloadPreparer preparer;
    private final WorkloadCompleter completer;
    private boolean closed;
    /** Workloads of this vGPU executing on a host engine right now (what {@link #quiesce} waits for). */
    private final HostExecutions executing = new HostExecutions();
    /** This vGPU as the scheduler sees it. */
    private final ScheduledVgpu scheduled;

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
        requireNonNull(memory, "memory is null");
        requireNonNull(ggtt, "ggtt is null");
        requireNonNull(ppgtt, "ppgtt is null");
        this.scheduler = requireNonNull(scheduler, "scheduler is null");
        this.held = new HeldWorkloads(vgpu.mmio());
        this.scheduled = new ScheduledExeclists(this, held);
        this.decoder = new ElspDecoder(this, vgpu.mmio(), memory, ggtt, arena.allocate(RingContext.BYTES, 8));
        this.preparer = new WorkloadPreparer(this, vgpu.id(), vgpu.partition(), vgpu.mmio(), ppgtt,
                requireNonNull(hostGm, "hostGm is null"), new GgttMemory(ggtt, requireNonNull(pins, "pins is null"), memory),
                new PpgttMemory(ppgtt, pins, memory), stats);
        this.completer = new WorkloadCompleter(this, vgpu, memory, ggtt, ppgtt, decoder, execlists, stats,
                arena.allocate(8, 8));
        VirtualExeclist.Sink sink = new VirtualExeclist.Sink() {
            @Override
            public void hwspWrite(Engine engine, int index, int value) {
                completer.writeHwsp(engine, index, value);
            }

            @Override
            public void csbWritten(Engine engine, int entry, int status, int contextId) {
                completer.writeCsb(engine, entry, status, contextId);
            }

            @Override
            public void contextSwitch(Engine engine) {
                vgpu.raise(IrqEvent.contextSwitch(engine));
            }
        };
        for (Engine e : Engine.GT2) {
            execlists[e.ordinal()] = new VirtualExeclist(e, vgpu.mmio(), sink);
        }
        vgpu.runLocked(() -> {
            for (Engine e : Engine.GT2) {
                execlists[e.ordinal()].reset();
            }
        });
        scheduler.register(scheduled);
    }

    /** The vGPU this submits for. */
    public Vgpu vgpu() {
        return vgpu;
    }

    /** Sets what sees every scan of this vGPU's workloads (the scan dump); nothing by default. */
    public void observeScans(dev.jgvt.core.cmd.ScanObserver scans) {
        preparer.observeScans(scans);
    }

    /**
     * Scans the non-privileged (PPGTT) batch buffers of workloads on {@code engines} too, as a diagnostic (GVT-g's
     * {@code scan_nonprivbb}); an empty set is the default. Their bytes are not shadowed for execution.
     */
    public void scanPpgttBatches(java.util.Set<Engine> engines) {
        preparer.scanPpgttBatches(java.util.Set.copyOf(engines));
    }

    /** Non-privileged batches the diagnostic scan rejected so far (reported, not held against their workloads). */
    public long ppgttDiagnosticRejections() {
        return preparer.ppgttRejections();
    }

    /** What happened so far. */
    public ExecStats stats() {
        ExecStats[] result = new ExecStats[1];
        vgpu.runLocked(() -> result[0] = stats.snapshot(scheduler.usedNanos(scheduled), executing.count(),
                sliceMediationNanos.get()));
        return result[0] == null ? stats.snapshot(0, executing.count(), sliceMediationNanos.get()) : result[0];
    }

    // ------------------------------------------------------------------------------------------ ELSP (trap thread)

    @Override
    public void submitted(Engine engine, long element0, long element1) {
        long started = scheduler.now();
        long decoded = started;
        Workload[] created;
        try {
            if (closed || vgpu.failsafe()) {
                stats.droppedSubmissions++;
                return;
            }
            created = decoder.decode(engine, element0, element1);
            if (created == null || created.length == 0) {
                return;
            }
            stats.submissions += created.length;
        } finally {
            decoded = scheduler.now();
            stats.mediationNanos += decoded - started;
        }
        // may run the workloads on this thread (the scheduler's HostSliceRunner accounts their mediation time); the
        // time the decode ended is the submission's time for the scheduler too (one clock read fewer)
        scheduler.submitted(scheduled, engine, decoded, created);
    }

    /**
     * After the BAR write that carried an ELSP submission, on the trapping thread with the vGPU's lock released:
     * runs the workload the scheduler let this thread claim (prepare, execution, completion and its MSI), if any.
     */
    public void afterWrite() {
        scheduler.runClaimed();
    }

    /** This vGPU as the scheduler sees it (also the owner of the workloads the decoder creates). */
    ScheduledVgpu scheduled() {
        return scheduled;
    }

    /** The reset epoch of {@code engine} (stamped into each workload the decoder creates). */
    long epoch(Engine engine) {
        return epochs[engine.ordinal()];
    }

    // ------------------------------------------------- dispatch (the trap thread inline, or the dispatcher thread)

    /**
     * Prepares {@code w} for the host: schedule-in emulation, then the {@link WorkloadPreparer}. Returns the
     * submission, or null when the workload failed (the reason is in {@code w.failure}; the vGPU is in failsafe if
     * the guest caused it).
     */
    HostSubmission prepare(Workload w) {
        HostSubmission[] result = new HostSubmission[1];
        vgpu.runLocked(() -> result[0] = prepareLocked(w)); // timed by the scheduler's HostSliceRunner (mediated)
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
        HostSubmission submission = preparer.prepare(w);
        if (submission != null) {
            w.slices = 1;
            executing.started(); // before the lock is released, so a reset or unmap from now on waits for the engine
        }
        return submission;
    }

    /**
     * Completes {@code w} after the host engine stopped: the {@link WorkloadCompleter} under the vGPU's lock.
     *
     * @param done the host's report, or null when the workload never reached the host
     */
    void complete(Workload w, HostCompletion done) {
        vgpu.runLocked(() -> { // timed by the scheduler's HostSliceRunner (mediated)
            int e = w.engine.ordinal();
            if (inFlight[e] == w) {
                inFlight[e] = null;
            }
            completer.complete(w, done, closed);
        });
    }

    /** Adds what the scheduler measured of preparing, resuming and completing workloads (lock-free). */
    void mediated(long nanos) {
        sliceMediationNanos.addAndGet(nanos);
    }

    /**
     * Continues {@code w}, which an earlier slice left unfinished: its submission from where the engine stopped,
     * or null when it must not run on (the vGPU was reset, detached or put in failsafe, RAM it used was unmapped,
     * or it ran past {@link #MAX_RUN_NANOS}; the reason is in {@code w.failure}). The shadow copies the first slice
     * executed are executed on unchanged (they were scanned); PPGTT batches are fetched from guest memory again.
     */
    HostSubmission resume(Workload w) {
        HostSubmission[] result = new HostSubmission[1];
        vgpu.runLocked(() -> result[0] = resumeLocked(w));
        if (result[0] == null && w.failure == null) {
            w.failure = "the vGPU was destroyed";
        }
        return result[0];
    }

    private HostSubmission resumeLocked(Workload w) {
        if (w.failure != null) {
            stats.failed++; // failed by a reset while the dispatcher held it between slices
            return null;
        }
        if (closed || vgpu.failsafe()) {
            w.failure = closed ? "the vGPU was detached" : "the vGPU is in failsafe";
            return null;
        }
        if (w.epoch != epochs[w.engine.ordinal()]) {
            w.failure = "the engine was reset while the workload ran";
            stats.failed++;
            return null;
        }
        if (w.ramUnmapped()) {
            w.failure = "guest RAM the workload used was unmapped while it ran";
            stats.failed++;
            log.warn("vGPU {}: {} failed: {}", vgpu.id(), w, w.failure);
            return null;
        }
        long ran = scheduler.now() - w.started;
        if (ran > MAX_RUN_NANOS) {
            stats.hung++;
            w.failure = "GPU hang: still running after " + ran / 1_000_000 + " ms (" + w.slices + " slices, at "
                    + w.state + ")";
            log.warn("vGPU {}: {} hung on the host engine: {}", vgpu.id(), w, w.failure);
            dropEngine(w.engine, "an earlier workload on the engine hung");
            return null;
        }
        executing.started();
        w.slices++;
        return w.submission.resume(w.state);
    }

    /**
     * The host engine stopped {@code w} unfinished at an arbitration point ({@code slice.state()}): the guest sees
     * a busy engine (RING_HEAD and ACTHD where the engine is, no completion in the CSB) and the workload waits for
     * the scheduler to resume it. Returns false when it must not be resumed (it was failed meanwhile, or the vGPU
     * detached): the caller completes it.
     */
    boolean suspend(Workload w, HostCompletion slice) {
        boolean[] keep = {false};
        vgpu.runLocked(() -> {
            if (w.failure != null || closed) {
                return;
            }
            stats.commandsExecuted += slice.commands();
            w.state = slice.state();
            held.hold(w);
            keep[0] = true;
        });
        return keep[0];
    }

    /** The next queued workload of this vGPU on {@code engine} (to tell a lite restore from a completion), or null. */
    Workload nextQueued(Engine engine) {
        return scheduler.peek(scheduled, engine);
    }

    // ----------------------------------------------------------------------------------------------- failure

    void guestError(Engine engine, String why) {
        stats.rejected++;
        vgpu.enterFailsafe(engine + ": " + why);
    }

    void fail(Workload w, String why, boolean guestCaused) {
        w.failure = why;
        if (guestCaused) {
            vgpu.enterFailsafe(w.engine + " " + w + ": " + why);
        } else {
            stats.failed++;
            log.warn("vGPU {}: {} failed: {}", vgpu.id(), w, why);
        }
    }

    /** Drops queued work of {@code engine}; an in-flight workload there completes without events. */
    void dropEngine(Engine engine, String why) {
        stats.failed += scheduler.drop(scheduled, engine);
        Workload waiting = held.take(engine.ordinal());
        if (waiting != null) {
            if (waiting.failure == null) {
                waiting.failure = why;
                stats.failed++;
            }
            complete(waiting, null); // between slices: ended here, its shadows released
        }
        Workload running = inFlight[engine.ordinal()];
        if (running != null && running.failure == null) {
            running.failure = why;
        }
        decoder.forget(engine);
    }

    // ------------------------------------------------------------------------------------------------ resets

    /** The host engine stopped executing a workload {@link #prepare} returned a submission for. */
    void executionEnded() {
        executing.ended();
    }

    /**
     * Waits (under the vGPU's lock, from a reset or a DMA unmap) until no workload of this vGPU executes on a
     * host engine: a slice ends on its own (at its next arbitration point after {@link #SLICE_NANOS}, or after
     * {@link #MAX_COMMANDS} commands); its completion or resumption then waits for the lock and finds the workload
     * failed by the reset or unmap. A workload between slices is not executing.
     */
    public void quiesce() {
        executing.quiesce();
    }

    @Override
    public void deviceReset() {
        for (Engine e : Engine.GT2) {
            resetEngine(e);
        }
        scheduler.deviceReset(scheduled);
    }

    @Override
    public void engineReset(int domainMask) {
        if ((domainMask & Gen9Registers.GDRST_FULL) != 0) {
            scheduler.deviceReset(scheduled);
        }
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
        for (Engine e : Engine.values()) {
            Workload waiting = held.take(e.ordinal());
            if (waiting != null) {
                waiting.failure = "the vGPU was detached";
                complete(waiting, null);
            }
        }
        scheduler.unregister(scheduled);
        preparer.close();
        arena.close();
    }

    @Override
    public String toString() {
        return "execlists of vGPU " + vgpu.id();
    }
}
