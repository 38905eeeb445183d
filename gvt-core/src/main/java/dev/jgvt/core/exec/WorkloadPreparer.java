package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.cmd.CommandScanner;
import dev.jgvt.core.cmd.CommandTable;
import dev.jgvt.core.cmd.Gen9RegisterPolicy;
import dev.jgvt.core.cmd.RecordedEvents;
import dev.jgvt.core.cmd.ScanObserver;
import dev.jgvt.core.cmd.ScanOptions;
import dev.jgvt.core.cmd.ScanRejectedException;
import dev.jgvt.core.cmd.ShadowBatches;
import dev.jgvt.core.cmd.WorkloadContext;
import dev.jgvt.core.gtt.PpgttRoot;
import dev.jgvt.core.gtt.PpgttShadower;
import dev.jgvt.core.gtt.ShadowPpgtt;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Stage 2 of submission, on the engine's dispatcher thread under the vGPU's lock: a workload is made safe to run
 * on the host. Pins the context's shadow PPGTT, scans the ring slice and the batch buffers it starts (address
 * audit, register policy, virtual events taken out, PDP loads shadowed), copies them into host graphics memory
 * and points the batch starts at the copies (gvt-g.md §7.4). One scanner per vGPU; per engine a status page, a
 * shadow ring and batch pools in host GM, grown as needed.
 */
final class WorkloadPreparer implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(WorkloadPreparer.class);
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_HOST_RING = 2 << 20;
    private static final int MI_NOOP = 0;

    private final Execlists owner;
    private final int vgpuId;
    private final VgpuPartition partition;
    private final MmioSpace mmio;
    private final PpgttShadower ppgtt;
    private final HostGmSpace hostGm;
    private final GgttMemory ggttMemory;
    private final PpgttMemory ppgttMemory;
    /** Engines whose PPGTT batches get the diagnostic scan (bit = engine ordinal); none by default. */
    private volatile int ppgttScanEngines;
    private volatile long ppgttRejections; // written under the vGPU lock only
    private final ExecStats.Counters stats;
    private final CommandScanner scanner;
    private final RecordedEvents events = new RecordedEvents();
    private final EngineHost[] hosts = new EngineHost[Engine.values().length];
    private Workload scanning;
    private volatile ScanObserver observer = ScanObserver.NONE;

    WorkloadPreparer(Execlists owner, int vgpuId, VgpuPartition partition, MmioSpace mmio, PpgttShadower ppgtt,
            HostGmSpace hostGm, GgttMemory ggttMemory, PpgttMemory ppgttMemory, ExecStats.Counters stats) {
        this.owner = requireNonNull(owner, "owner is null");
        this.vgpuId = vgpuId;
        this.partition = requireNonNull(partition, "partition is null");
        this.mmio = requireNonNull(mmio, "mmio is null");
        this.ppgtt = requireNonNull(ppgtt, "ppgtt is null");
        this.hostGm = requireNonNull(hostGm, "hostGm is null");
        this.ggttMemory = requireNonNull(ggttMemory, "ggttMemory is null");
        this.ppgttMemory = requireNonNull(ppgttMemory, "ppgttMemory is null");
        this.stats = requireNonNull(stats, "stats is null");
        // PPGTT batches are scanned only where a workload's context carries PPGTT memory, which prepare() gives
        // it only on the engines of the diagnostic (scanPpgttBatches); everywhere else GVT-g's default holds
        this.scanner = new CommandScanner(CommandTable.gen9(), Gen9RegisterPolicy.load(), this::pdpLoad,
                ScanOptions.defaults().withScanPpgttBatches(true));
    }

    /**
     * Shadows {@code w} for the host and returns its submission, or null when it failed (reported through the
     * owner: the reason is in {@code w.failure}, the vGPU is in failsafe if the guest caused it).
     */
    HostSubmission prepare(Workload w) {
        ShadowPpgtt mm = ppgtt.acquire(w.root);
        if (!ppgtt.pin(mm)) {
            String why = mm.error();
            ppgtt.release(mm);
            owner.fail(w, "cannot shadow the PPGTT " + w.root + ": " + why, true);
            return null;
        }
        w.pinned(mm);
        EngineHost host = host(w.engine);
        events.clear();
        scanning = w;
        long started = System.nanoTime();
        long commandsBefore = scanner.commandsScanned();
        boolean diagnostic = (ppgttScanEngines & (1 << w.engine.ordinal())) != 0;
        WorkloadContext context = new WorkloadContext(w.engine, partition, ggttMemory,
                diagnostic ? ppgttMemory.of(mm) : null, host.hwsp.gma(), events);
        try {
            scanner.scanRing(context, w.context.ringStart(), w.context.ringSize(), w.head, w.tail);
            observe(context, w, null);
        } catch (ScanRejectedException e) {
            observe(context, w, e);
            if (!diagnostic || !scanner.rejectedInPpgttBatch() || !rescanWithoutDiagnostic(w, context, e)) {
                stats.rejected++;
                owner.fail(w, "workload rejected: " + e.getMessage(), true);
                return null;
            }
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
            owner.fail(w, "no host memory for the shadow workload: " + e.getMessage(), false);
            return null;
        }
        stats.bytesScanned += w.scannedBytes;
        return w.submission;
    }

    /**
     * Turns the diagnostic scan of non-privileged (PPGTT) batch buffers on for {@code engines} (GVT-g's
     * {@code scan_nonprivbb} bitmask) and off for the others. A scanned PPGTT batch is checked with the rules of
     * privileged ones; a rejection is reported, not held against the workload ({@link #rescanWithoutDiagnostic});
     * an accepted one still executes from the guest's memory through the shadow PPGTT (decision 0014), never from
     * the scanner's copy.
     */
    void scanPpgttBatches(java.util.Set<Engine> engines) {
        int mask = 0;
        for (Engine e : engines) {
            mask |= 1 << e.ordinal();
        }
        ppgttScanEngines = mask;
    }

    /**
     * A non-privileged batch the diagnostic scan rejected: reported (counted, the first ones logged; the scan dump
     * has seen it with its verdict) but not held against the workload, which is scanned again without the
     * diagnostic and runs if that scan accepts it. GVT-g fails the workload instead; decision 0014's addendum says
     * why this one does not: the rules are those of privileged batches, which legitimate user batches break
     * (gem_latency's MI_STORE_REGISTER_MEM of RING_TIMESTAMP), while the GPU enforces the non-privileged rules.
     */
    private boolean rescanWithoutDiagnostic(Workload w, WorkloadContext diagnosed, ScanRejectedException e) {
        long n = ++ppgttRejections;
        if (n <= 10) {
            log.warn("vGPU {}: the diagnostic scan rejected a PPGTT batch of a {} workload (not held against it{}): {}",
                    vgpuId, w.engine, n == 10 ? "; further ones are counted, not logged" : "", e.getMessage());
        }
        events.clear();
        WorkloadContext plain = new WorkloadContext(w.engine, partition, ggttMemory, null, diagnosed.hwspAddress(),
                events);
        try {
            scanner.scanRing(plain, w.context.ringStart(), w.context.ringSize(), w.head, w.tail);
            return true;
        } catch (ScanRejectedException again) {
            return false;
        }
    }

    /** Non-privileged batches the diagnostic scan rejected (each reported, none held against its workload). */
    long ppgttRejections() {
        return ppgttRejections;
    }

    /** Sets what sees every scan (the scan dump); {@link ScanObserver#NONE} by default. */
    void observeScans(ScanObserver scans) {
        observer = requireNonNull(scans, "scans is null");
    }

    private void observe(WorkloadContext context, Workload w, ScanRejectedException rejection) {
        ScanObserver o = observer;
        if (o != ScanObserver.NONE) {
            o.scanned(vgpuId, context, new ScanObserver.RingSlice(w.context.ringStart(), w.context.ringSize(), w.head,
                    w.tail), scanner, rejection);
        }
    }

    /** Copies the scanned ring slice and batches into host memory and points the batch starts at the copies. */
    private HostSubmission shadowToHost(Workload w, EngineHost host) {
        MemorySegment ring = scanner.shadowRing();
        long bytes = ring.byteSize();
        long padded = (bytes + 7) & ~7L;
        if (padded >= MAX_HOST_RING) {
            throw new GvtException(ErrorCode.NO_SPACE, "a ring slice of " + bytes + " bytes");
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
                scanned += batches.size(i); // diagnostic: scanned, but the GPU runs the guest's own bytes
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
        return new HostSubmission(w.engine, host.ring.gma(), ringSize, 0, (int) padded, levels, roots, Execlists.MAX_COMMANDS,
                Execlists.SLICE_NANOS, null);
    }

    /** MI_DISPLAY_FLIP: the flip is applied to the virtual plane as the guest's own register writes would. */
    private void emulateFlip() {
        if (events.lastFlipPlane() != 0) {
            return; // only plane A's primary is modelled
        }
        mmio.write(Gen9Registers.PLANE_STRIDE_1_A, 4, events.lastFlipStride());
        mmio.write(Gen9Registers.PLANE_SURF_1_A, 4, events.lastFlipSurface());
    }

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
        w.pinnedLoaded(mm);
        Arrays.fill(shadowRoots, 0);
        long[] shadow = mm.shadowRoots();
        for (int i = 0; i < shadow.length; i++) {
            shadowRoots[i] = shadow[i];
        }
        return true;
    }

    private EngineHost host(Engine engine) {
        EngineHost h = hosts[engine.ordinal()];
        if (h == null) {
            h = new EngineHost(hostGm.map(4096, "vGPU " + vgpuId + " " + engine + " status page"));
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
            HostGmSpace.Mapping next = hostGm.map((size + 4095) & ~4095L, "vGPU " + vgpuId + " " + purpose);
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

    @Override
    public void close() {
        for (EngineHost h : hosts) {
            if (h != null) {
                h.close();
            }
        }
        scanner.close();
    }
}
