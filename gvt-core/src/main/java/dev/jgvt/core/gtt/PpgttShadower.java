package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.core.track.PageTrackRegistry;
import dev.jgvt.spi.GuestMemory;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow PPGTTs of one vGPU. Guest page tables (read through {@link GuestMemory}) are mirrored into host-owned
 * shadow tables whose leaves are device addresses of pinned guest frames (through the {@link PinCache}).
 *
 * <ul>
 *   <li>One shadow table ({@link Spt}, built by {@link ShadowTables}) per guest page-table page and level (and IPS flavour), shared by every
 *       parent and root that references it, reference-counted. A page that references itself gets one shadow
 *       per level it is used at, so a walk never reinterprets a shadow table at another level.</li>
 *   <li>Leaves: 4 KiB pages; 64 KiB pages (a PT reached through a PDE with IPS: guest entries at multiples of
 *       16, each shadowed as 16 4 KiB entries, IPS cleared in the shadow PDE); 2 MiB pages (a PDE with PS:
 *       one 2 MiB DMA mapping when the GPU supports it and the run is host-contiguous, otherwise split into a
 *       private 4 KiB table); 1 GiB pages are rejected (scratch, counted).</li>
 *   <li>Guest entries whose frame is not guest RAM or cannot be pinned map scratch and are counted; not-present
 *       entries map the per-level scratch tables.</li>
 *   <li>Every guest page-table page is registered with the {@link PageTrackRegistry}. A tracked write (already
 *       committed) re-shadows the entries it fully covers; a partially written entry is parked at scratch and
 *       re-read before the next submission ({@link #sync}; {@link TableSync}).</li>
 *   <li>Relaxed mode ({@link PpgttConfig#outOfSync}): a leaf table written often is unprotected and compared
 *       against a snapshot in {@link #sync}. Without page tracking every table is always out of sync.</li>
 *   <li>Unpinned PPGTTs sit on an LRU list and are reclaimed when the shadow-page budget is reached.</li>
 * </ul>
 *
 * <p>This class owns the address spaces ({@link ShadowPpgtt}: acquire, pin, LRU reclaim) and DMA invalidation;
 * the tables are {@link ShadowTables}', keeping them in sync is {@link TableSync}'s.
 *
 * <p>Used under the vGPU's lock. Nothing a guest writes makes it throw: failures are scratch entries,
 * counters, and {@link #pin} returning false with {@link ShadowPpgtt#error()}.
 */
public final class PpgttShadower implements DmaInvalidationListener {
    private static final Logger log = LoggerFactory.getLogger(PpgttShadower.class);
    private static final ValueLayout.OfLong ENTRY = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int N = GttEntry.ENTRIES;

    private final GuestMemory memory;
    private final PinCache pins;
    private final GttScratch scratch;
    private final PpgttConfig config;
    private final PpgttCounters counters = new PpgttCounters();
    private final ShadowTables tables;
    private final TableSync sync;
    private final Map<PpgttRoot, ShadowPpgtt> mms = new HashMap<>();
    private final LinkedHashSet<ShadowPpgtt> lru = new LinkedHashSet<>();
    private final LogLimiter limiter = new LogLimiter(10, 1_000_000_000L);

    public PpgttShadower(GuestMemory memory, PageTrackRegistry registry, PinCache pins, HostGpu gpu, GttScratch scratch,
            PpgttConfig config) {
        this.memory = requireNonNull(memory, "memory is null");
        this.pins = requireNonNull(pins, "pins is null");
        this.scratch = requireNonNull(scratch, "scratch is null");
        this.config = requireNonNull(config, "config is null");
        this.tables = new ShadowTables(memory, registry, pins, gpu, scratch, config, counters, this::reclaimOne);
        this.sync = new TableSync(tables, registry, config, counters);
        tables.connect(sync);
        pins.addListener(this);
    }

    // ---------------------------------------------------------------- address spaces

    /** Finds or creates the PPGTT for {@code root} and takes a reference on it. Does not shadow yet. */
    public ShadowPpgtt acquire(PpgttRoot root) {
        ShadowPpgtt mm = mms.computeIfAbsent(requireNonNull(root, "root is null"), ShadowPpgtt::new);
        mm.refs++;
        return mm;
    }

    /** Drops a reference taken by {@link #acquire}; the last one destroys the shadow. */
    public void release(ShadowPpgtt mm) {
        if (mm.destroyed || mm.refs == 0) {
            return;
        }
        if (--mm.refs == 0 && mm.pins == 0) {
            destroy(mm);
        }
    }

    /**
     * Pins {@code mm} for a workload: shadows it if needed, then brings every parked and out-of-sync entry of
     * this vGPU up to date. Returns false (a guest error: {@link ShadowPpgtt#error()} says why) when a root
     * pointer is not guest RAM or the shadow budget is exhausted; the PPGTT is then not pinned.
     */
    public boolean pin(ShadowPpgtt mm) {
        if (mm.destroyed) {
            mm.error("the PPGTT was destroyed");
            return false;
        }
        lru.remove(mm);
        mm.pins++;
        tables.allocationFailed = false;
        if (!mm.shadowed) {
            tables.reclaimAllowed = true;
            try {
                if (!shadow(mm)) {
                    mm.pins--;
                    return false;
                }
            } finally {
                tables.reclaimAllowed = false;
            }
        }
        sync();
        if (tables.allocationFailed) {
            mm.error("shadow page budget of " + config.budgetPages() + " pages exhausted");
            unpin(mm);
            return false;
        }
        mm.error(null);
        return true;
    }

    /** Ends a workload's use of {@code mm}; an unpinned shadow becomes reclaimable. */
    public void unpin(ShadowPpgtt mm) {
        if (mm.pins == 0) {
            return;
        }
        if (--mm.pins == 0) {
            if (mm.refs == 0) {
                destroy(mm);
            } else if (mm.shadowed) {
                lru.add(mm);
            }
        }
    }

    /** Brings parked (partially written) entries and out-of-sync tables up to date. Before each submission. */
    public void sync() {
        sync.sync();
    }

    /** Destroys every shadow (device-model reset). PPGTT objects stay, unshadowed, for their holders. */
    public void reset() {
        for (ShadowPpgtt mm : new ArrayList<>(mms.values())) {
            unshadow(mm);
        }
        lru.clear();
    }

    /** Destroys everything and detaches from the pin cache. */
    public void close() {
        for (ShadowPpgtt mm : new ArrayList<>(mms.values())) {
            destroy(mm);
        }
        pins.removeListener(this);
    }

    // ---------------------------------------------------------------- DMA invalidation

    @Override
    public void invalidated(long firstGfn, long endGfn) {
        boolean any = false;
        for (Spt spt : tables.all()) {
            if (!spt.alive) {
                continue;
            }
            if (!spt.isPrivate() && spt.gfn >= firstGfn && spt.gfn < endGfn) {
                for (int i = 0; i < N; i++) {
                    if (spt.level != 1 || !spt.ips || (i & 15) == 0) {
                        tables.install(spt, i, 0);
                    }
                }
                Arrays.fill(spt.post, -1L);
                sync.queuePost(spt);
                any = true;
                continue;
            }
            if (spt.level == 1) {
                for (int i = 0; i < N; i++) {
                    long gfn = pins.gfn(spt.leafPin[i]);
                    if (gfn >= firstGfn && gfn < endGfn) {
                        long flags = spt.sh.getAtIndex(ENTRY, i) & GttEntry.LOW_FLAGS;
                        spt.sh.setAtIndex(ENTRY, i, scratch.dataPage() | flags | GttEntry.PRESENT);
                        long pin = spt.leafPin[i];
                        spt.leafPin[i] = PinCache.NO_HANDLE;
                        pins.unpin(pin);
                        if (!spt.isPrivate()) {
                            sync.markPost(spt, spt.ips ? i & ~15 : i);
                        }
                        any = true;
                    }
                }
            } else if (spt.level == 2 && spt.huge != null) {
                for (int i = 0; i < N; i++) {
                    long first = spt.huge[i];
                    if (first != ShadowTables.NONE && first < endGfn && first + N > firstGfn) {
                        tables.install(spt, i, 0);
                        sync.markPost(spt, i);
                        any = true;
                    }
                }
            }
        }
        if (any) {
            for (ShadowPpgtt mm : mms.values()) {
                if (mm.pins > 0) {
                    mm.fail();
                }
            }
        }
    }

    /**
     * The guest physical address that graphics address {@code gva} maps to in {@code mm}'s guest page tables
     * (read from guest memory, so parked and out-of-sync entries are seen as the guest wrote them), or -1 when
     * it is not mapped, maps a 1 GiB page, or a table is not guest RAM. GVT-g's {@code gma_to_gpa} for PPGTT
     * addresses (ring and batch buffers). Never throws.
     */
    public long gmaToGpa(ShadowPpgtt mm, long gva) {
        return GuestPpgttWalk.gmaToGpa(memory, mm.root(), gva);
    }

    // ---------------------------------------------------------------- statistics

    /** Tracked writes handled. */
    public long traps() {
        return counters.traps;
    }

    /** Guest entries (re)shadowed, at build, on tracked writes and at sync. */
    public long shadowedEntries() {
        return counters.shadowedEntries;
    }

    /** Guest entries that point at frames that are not guest RAM or cannot be pinned (mapped to scratch). */
    public long invalidFrames() {
        return counters.invalidFrames;
    }

    /** 1 GiB guest pages rejected. */
    public long rejectedHugePages() {
        return counters.rejectedHuge1g;
    }

    /** Out-of-sync tables brought back in sync. */
    public long oosSyncs() {
        return counters.oosSyncs;
    }

    /** Shadow tables that could not be allocated (budget or host memory). */
    public long allocationFailures() {
        return counters.allocationFailures;
    }

    /** PPGTTs whose shadows were reclaimed under budget pressure. */
    public long reclaims() {
        return counters.reclaims;
    }

    /** Shadow page tables alive. */
    public int shadowPages() {
        return counters.shadowPages;
    }

    /** Tables out of sync right now. */
    public int outOfSyncPages() {
        return sync.outOfSync();
    }

    /** Visits the device address of every live shadow table (for audits). */
    public void forEachShadowTable(LongConsumer visitor) {
        for (Spt spt : tables.all()) {
            visitor.accept(spt.shadow.deviceAddress());
        }
    }

    // ---------------------------------------------------------------- address spaces: shadowing and reclaim

    private boolean shadow(ShadowPpgtt mm) {
        PpgttRoot root = mm.root();
        int level = root.mode() == PpgttRoot.Mode.L4 ? 4 : 2;
        for (int i = 0; i < root.count(); i++) {
            long pointer = root.pdp(i);
            if (pointer == 0) {
                mm.rootSpts[i] = null;
                mm.shadowRoots[i] = scratch.table(level);
                continue;
            }
            long gfn = GttEntry.frame(pointer);
            Spt spt = memory.isBacked(gfn) ? tables.getOrCreate(gfn, level, false) : null;
            if (spt == null) {
                for (int j = 0; j < i; j++) {
                    if (mm.rootSpts[j] != null) {
                        tables.releaseSpt((Spt) mm.rootSpts[j]);
                        mm.rootSpts[j] = null;
                    }
                }
                mm.error(tables.allocationFailed
                        ? "shadow page budget of " + config.budgetPages() + " pages exhausted"
                        : String.format("root pointer %d of %s (0x%x) is not guest RAM", i, root, pointer));
                limiter.warn(log, "cannot shadow %s: %s", root, mm.error());
                return false;
            }
            mm.rootSpts[i] = spt;
            mm.shadowRoots[i] = spt.shadow.deviceAddress();
        }
        mm.shadowed = true;
        return true;
    }

    private void unshadow(ShadowPpgtt mm) {
        if (!mm.shadowed) {
            return;
        }
        mm.shadowed = false;
        lru.remove(mm);
        for (int i = 0; i < mm.rootSpts.length; i++) {
            if (mm.rootSpts[i] != null) {
                tables.releaseSpt((Spt) mm.rootSpts[i]);
                mm.rootSpts[i] = null;
            }
            mm.shadowRoots[i] = 0;
        }
    }

    private void destroy(ShadowPpgtt mm) {
        unshadow(mm);
        mm.destroyed = true;
        mms.remove(mm.root(), mm);
    }

    private boolean reclaimOne() {
        var it = lru.iterator();
        if (!it.hasNext()) {
            return false;
        }
        ShadowPpgtt victim = it.next();
        it.remove();
        unshadow(victim);
        counters.reclaims++;
        return true;
    }
}
