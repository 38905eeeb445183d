package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.core.track.GfnMap;
import dev.jgvt.core.track.PageTrackRegistry;
import dev.jgvt.core.track.TrackedWriteHandler;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow PPGTTs of one vGPU. Guest page tables (read through {@link GuestMemory}) are mirrored into host-owned
 * shadow tables whose leaves are device addresses of pinned guest frames (through the {@link PinCache}).
 *
 * <ul>
 *   <li>One shadow table ({@code Spt}) per guest page-table page and level (and IPS flavour), shared by every
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
 *       re-read before the next submission ({@link #sync}).</li>
 *   <li>Relaxed mode ({@link PpgttConfig#outOfSync}): a leaf table written often is unprotected and compared
 *       against a snapshot in {@link #sync}. Without page tracking every table is always out of sync.</li>
 *   <li>Unpinned PPGTTs sit on an LRU list and are reclaimed when the shadow-page budget is reached.</li>
 * </ul>
 *
 * <p>Used under the vGPU's lock. Nothing a guest writes makes it throw: failures are scratch entries,
 * counters, and {@link #pin} returning false with {@link ShadowPpgtt#error()}.
 */
public final class PpgttShadower implements DmaInvalidationListener {
    private static final Logger log = LoggerFactory.getLogger(PpgttShadower.class);
    private static final ValueLayout.OfLong ENTRY = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int N = GttEntry.ENTRIES;
    private static final long NONE = -1;

    private final GuestMemory memory;
    private final PageTrackRegistry registry;
    private final PinCache pins;
    private final HostGpu gpu;
    private final GttScratch scratch;
    private final PpgttConfig config;
    private final GfnMap<Spt> spts = new GfnMap<>(1024);
    private final GfnMap<GuestPt> guestPages = new GfnMap<>(1024);
    private final Map<PpgttRoot, ShadowPpgtt> mms = new HashMap<>();
    private final LinkedHashSet<ShadowPpgtt> lru = new LinkedHashSet<>();
    private final List<Spt> postQueue = new ArrayList<>();
    private final List<Spt> oosList = new ArrayList<>();
    private final MemorySegment[] buffers = new MemorySegment[5];
    private final LogLimiter limiter = new LogLimiter(10, 1_000_000_000L);
    /** Keys of private (split 2 MiB) tables: above every gfn-derived key. */
    private static final long PRIVATE_KEYS = 1L << 61;
    private long nextPrivateKey;
    private boolean reclaimAllowed;
    private boolean allocationFailed;
    private int shadowPages;
    private long traps;
    private long shadowedEntries;
    private long invalidFrames;
    private long rejectedHuge1g;
    private long oosSyncs;
    private long allocationFailures;
    private long reclaims;

    /** One shadow page table. */
    private final class Spt {
        final long key;
        final long gfn;
        final int level;
        final boolean ips;
        final HostBuffer shadow;
        final MemorySegment sh;
        final Spt[] child;
        /** Pin-cache handles of the leaves ({@link PinCache#NO_HANDLE} for none). */
        final long[] leafPin;
        long[] huge;
        final long[] post = new long[N / 64];
        boolean postQueued;
        long[] snapshot;
        boolean oos;
        int writes;
        int refs = 1;
        boolean alive = true;
        final GuestPt page;

        Spt(long key, long gfn, int level, boolean ips, HostBuffer shadow, GuestPt page) {
            this.key = key;
            this.gfn = gfn;
            this.level = level;
            this.ips = ips;
            this.shadow = shadow;
            this.sh = shadow.segment();
            this.child = level >= 2 ? new Spt[N] : null;
            this.leafPin = level == 1 ? new long[N] : null;
            this.page = page;
        }

        boolean isPrivate() {
            return page == null;
        }
    }

    /** A guest page-table page: its tracking registration and the shadows built from it. */
    private final class GuestPt implements TrackedWriteHandler {
        final long gfn;
        final Spt[] shadows = new Spt[8];
        int count;
        /** The shadow when it is the only one and a plain 4 KiB leaf table (the tracked-write fast path), else null. */
        Spt single4k;

        void countChanged() {
            single4k = count == 1 ? shadows[0] : null;
        }

        GuestPt(long gfn) {
            this.gfn = gfn;
        }

        @Override
        public void trackedWrite(long gpa, MemorySegment bytes) {
            onWrite(this, gpa, bytes);
        }
    }

    public PpgttShadower(GuestMemory memory, PageTrackRegistry registry, PinCache pins, HostGpu gpu, GttScratch scratch,
            PpgttConfig config) {
        this.memory = requireNonNull(memory, "memory is null");
        this.registry = requireNonNull(registry, "registry is null");
        this.pins = requireNonNull(pins, "pins is null");
        this.gpu = requireNonNull(gpu, "gpu is null");
        this.scratch = requireNonNull(scratch, "scratch is null");
        this.config = requireNonNull(config, "config is null");
        Arena arena = Arena.ofAuto();
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = arena.allocate(HostGpu.PAGE_SIZE, 8);
        }
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
        allocationFailed = false;
        if (!mm.shadowed) {
            reclaimAllowed = true;
            try {
                if (!shadow(mm)) {
                    mm.pins--;
                    return false;
                }
            } finally {
                reclaimAllowed = false;
            }
        }
        sync();
        if (allocationFailed) {
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
        if (!postQueue.isEmpty()) {
            Spt[] queued = postQueue.toArray(new Spt[0]);
            postQueue.clear();
            for (Spt spt : queued) {
                spt.postQueued = false;
                if (spt.alive) {
                    flushPost(spt);
                }
            }
        }
        if (!oosList.isEmpty()) {
            Spt[] out = oosList.toArray(new Spt[0]);
            for (Spt spt : out) {
                if (spt.alive && spt.oos) {
                    resync(spt);
                }
            }
        }
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
        for (Spt spt : spts.values()) {
            if (!spt.alive) {
                continue;
            }
            if (!spt.isPrivate() && spt.gfn >= firstGfn && spt.gfn < endGfn) {
                for (int i = 0; i < N; i++) {
                    if (spt.level != 1 || !spt.ips || (i & 15) == 0) {
                        install(spt, i, 0);
                    }
                }
                java.util.Arrays.fill(spt.post, -1L);
                queuePost(spt);
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
                            markPost(spt, spt.ips ? i & ~15 : i);
                        }
                        any = true;
                    }
                }
            } else if (spt.level == 2 && spt.huge != null) {
                for (int i = 0; i < N; i++) {
                    long first = spt.huge[i];
                    if (first != NONE && first < endGfn && first + N > firstGfn) {
                        install(spt, i, 0);
                        markPost(spt, i);
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
        PpgttRoot root = mm.root();
        long table;
        int level;
        if (root.mode() == PpgttRoot.Mode.L4) {
            if ((gva >>> 48) != 0) {
                return -1;
            }
            table = root.pdp0() & GttEntry.ADDR_4K;
            level = 4;
        } else {
            if ((gva >>> 32) != 0 || root.pdp((int) (gva >>> 30) & 3) == 0) {
                return -1;
            }
            table = root.pdp((int) (gva >>> 30) & 3) & GttEntry.ADDR_4K;
            level = 2;
        }
        try {
            while (true) {
                int index = GttEntry.index(gva, level);
                long e = memory.readLong(table | (long) index << 3);
                if (!GttEntry.present(e)) {
                    return -1;
                }
                if (level == 3 && (e & GttEntry.PS) != 0) {
                    return -1;
                }
                if (level == 2 && (e & GttEntry.PS) != 0) {
                    return (e & GttEntry.ADDR_2M) | (gva & 0x1F_FFFF);
                }
                if (level == 2 && (e & GttEntry.IPS) != 0) {
                    long pte = memory.readLong((e & GttEntry.ADDR_4K) | (long) (GttEntry.index(gva, 1) & ~15) << 3);
                    return GttEntry.present(pte) ? (pte & GttEntry.ADDR_64K) | (gva & 0xFFFF) : -1;
                }
                if (level == 1) {
                    return (e & GttEntry.ADDR_4K) | (gva & 0xFFF);
                }
                table = e & GttEntry.ADDR_4K;
                level--;
            }
        } catch (GvtException e) {
            return -1;
        }
    }

    // ---------------------------------------------------------------- statistics

    /** Tracked writes handled. */
    public long traps() {
        return traps;
    }

    /** Guest entries (re)shadowed, at build, on tracked writes and at sync. */
    public long shadowedEntries() {
        return shadowedEntries;
    }

    /** Guest entries that point at frames that are not guest RAM or cannot be pinned (mapped to scratch). */
    public long invalidFrames() {
        return invalidFrames;
    }

    /** 1 GiB guest pages rejected. */
    public long rejectedHugePages() {
        return rejectedHuge1g;
    }

    /** Out-of-sync tables brought back in sync. */
    public long oosSyncs() {
        return oosSyncs;
    }

    /** Shadow tables that could not be allocated (budget or host memory). */
    public long allocationFailures() {
        return allocationFailures;
    }

    /** PPGTTs whose shadows were reclaimed under budget pressure. */
    public long reclaims() {
        return reclaims;
    }

    /** Shadow page tables alive. */
    public int shadowPages() {
        return shadowPages;
    }

    /** Tables out of sync right now. */
    public int outOfSyncPages() {
        return oosList.size();
    }

    /** Visits the device address of every live shadow table (for audits). */
    public void forEachShadowTable(java.util.function.LongConsumer visitor) {
        for (Spt spt : spts.values()) {
            visitor.accept(spt.shadow.deviceAddress());
        }
    }

    // ---------------------------------------------------------------- building

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
            Spt spt = memory.isBacked(gfn) ? getOrCreate(gfn, level, false) : null;
            if (spt == null) {
                for (int j = 0; j < i; j++) {
                    if (mm.rootSpts[j] != null) {
                        releaseSpt((Spt) mm.rootSpts[j]);
                        mm.rootSpts[j] = null;
                    }
                }
                mm.error(allocationFailed
                        ? "shadow page budget of " + config.budgetPages() + " pages exhausted"
                        : String.format("root pointer %d of %s (0x%x) is not guest RAM", i, root, pointer));
                warn("cannot shadow %s: %s", root, mm.error());
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
                releaseSpt((Spt) mm.rootSpts[i]);
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

    private static long key(long gfn, int level, boolean ips) {
        return gfn << 4 | (long) level << 1 | (ips ? 1 : 0);
    }

    /** The shadow of guest table {@code gfn} at {@code level}, with a new reference; null if it cannot be built. */
    private Spt getOrCreate(long gfn, int level, boolean ips) {
        long key = key(gfn, level, ips);
        Spt spt = spts.get(key);
        if (spt != null) {
            spt.refs++;
            return spt;
        }
        if (!memory.isBacked(gfn)) {
            return null;
        }
        HostBuffer shadow = allocateTable(level);
        if (shadow == null) {
            return null;
        }
        GuestPt page = guestPages.get(gfn);
        if (page == null) {
            page = new GuestPt(gfn);
            try {
                registry.register(gfn, page);
            } catch (GvtException e) {
                shadow.close();
                shadowPages--;
                warn("cannot track guest page table gfn 0x%x: %s", gfn, e.getMessage());
                return null;
            }
            guestPages.put(gfn, page);
        } else {
            // the page is about to be used at a second level or flavour: it must be trapped again
            for (Spt other : page.shadows) {
                if (other != null && other.oos && registry.canProtect()) {
                    resync(other);
                }
            }
        }
        spt = new Spt(key, gfn, level, ips, shadow, page);
        page.shadows[(level - 1) * 2 + (ips ? 1 : 0)] = spt;
        page.count++;
        page.countChanged();
        spts.put(key, spt);
        MemorySegment buf = buffers[level];
        boolean read = readGuestPage(gfn, buf);
        for (int i = 0; i < N; i++) {
            if (level == 1 && ips && (i & 15) != 0) {
                continue;
            }
            install(spt, i, read ? buf.getAtIndex(ENTRY, i) : 0);
        }
        if (!registry.isProtected(gfn)) {
            goOutOfSync(spt, read ? buf : null);
        }
        return spt;
    }

    private HostBuffer allocateTable(int level) {
        while (shadowPages >= config.budgetPages()) {
            if (!reclaimAllowed || !reclaimOne()) {
                allocationFailures++;
                allocationFailed = true;
                return null;
            }
        }
        try {
            HostBuffer buffer = gpu.allocate(HostGpu.PAGE_SIZE, "shadow L" + level);
            shadowPages++;
            return buffer;
        } catch (GvtException e) {
            allocationFailures++;
            allocationFailed = true;
            return null;
        }
    }

    private boolean reclaimOne() {
        var it = lru.iterator();
        if (!it.hasNext()) {
            return false;
        }
        ShadowPpgtt victim = it.next();
        it.remove();
        unshadow(victim);
        reclaims++;
        return true;
    }

    private void releaseSpt(Spt spt) {
        if (--spt.refs > 0) {
            return;
        }
        spt.alive = false;
        for (int i = 0; i < N; i++) {
            releaseSlot(spt, i);
        }
        spts.remove(spt.key);
        if (spt.postQueued) {
            postQueue.remove(spt);
            spt.postQueued = false;
        }
        if (spt.oos) {
            oosList.remove(spt);
            spt.oos = false;
        }
        GuestPt page = spt.page;
        if (page != null) {
            page.shadows[(spt.level - 1) * 2 + (spt.ips ? 1 : 0)] = null;
            --page.count;
            page.countChanged();
            if (page.count == 0) {
                guestPages.remove(page.gfn);
                registry.unregister(page.gfn);
            }
        }
        spt.shadow.close();
        shadowPages--;
    }

    private void releaseSlot(Spt spt, int i) {
        if (spt.level == 1) {
            long pin = spt.leafPin[i];
            if (pin != PinCache.NO_HANDLE) {
                spt.leafPin[i] = PinCache.NO_HANDLE;
                pins.unpin(pin);
            }
            return;
        }
        Spt c = spt.child[i];
        if (c != null) {
            spt.child[i] = null;
            releaseSpt(c);
        }
        if (spt.huge != null && spt.huge[i] != NONE) {
            long first = spt.huge[i];
            spt.huge[i] = NONE;
            pins.releaseHuge(first);
        }
    }

    /**
     * Shadows guest entry {@code ge} at index {@code i} of {@code spt}: takes the new resources first, writes the
     * shadow entry, then releases what the old shadow entry held. For a 64 KiB table {@code i} is a multiple
     * of 16 and 16 shadow entries are written.
     */
    private void install(Spt spt, int i, long ge) {
        shadowedEntries++;
        switch (spt.level) {
            case 1 -> {
                if (spt.ips) {
                    long first = GttEntry.frame64k(ge);
                    for (int k = 0; k < GttEntry.STRIDE_64K; k++) {
                        installLeaf(spt, i + k, ge, first + k);
                    }
                } else {
                    installLeaf(spt, i, ge, GttEntry.frame(ge));
                }
            }
            case 2 -> installPde(spt, i, ge);
            case 3 -> {
                if (GttEntry.present(ge) && (ge & GttEntry.PS) != 0) {
                    rejectedHuge1g++;
                    warn("1 GiB page at PDP entry %d of gfn 0x%x rejected (entry 0x%x)", i, spt.gfn, ge);
                    installChild(spt, i, null, scratch.notPresentEntry(3));
                } else {
                    installTable(spt, i, ge);
                }
            }
            default -> installTable(spt, i, ge);
        }
    }

    private void installLeaf(Spt spt, int slot, long ge, long gfn) {
        long old = spt.leafPin[slot];
        long entry;
        long held = PinCache.NO_HANDLE;
        if (!GttEntry.present(ge)) {
            entry = scratch.notPresentEntry(1);
        } else {
            held = pins.pin(gfn);
            long flags = (ge & GttEntry.LOW_FLAGS) | GttEntry.PRESENT;
            if (held == PinCache.NO_HANDLE) {
                invalidFrames++;
                entry = scratch.dataPage() | flags;
            } else {
                entry = pins.dma(held) | flags;
            }
        }
        spt.leafPin[slot] = held;
        spt.sh.setAtIndex(ENTRY, slot, entry);
        if (old != PinCache.NO_HANDLE) {
            pins.unpin(old);
        }
    }

    private void installPde(Spt spt, int i, long ge) {
        if (!GttEntry.present(ge)) {
            installChild(spt, i, null, scratch.notPresentEntry(2));
            return;
        }
        if ((ge & GttEntry.PS) != 0) {
            long first = GttEntry.frame2m(ge);
            long dma = pins.acquireHuge(first);
            if (dma != PinCache.NO_MAPPING) {
                long[] huge = spt.huge;
                if (huge == null) {
                    huge = spt.huge = new long[N];
                    java.util.Arrays.fill(huge, NONE);
                }
                Spt oldChild = spt.child[i];
                long oldHuge = huge[i];
                spt.child[i] = null;
                huge[i] = first;
                spt.sh.setAtIndex(ENTRY, i, dma | (ge & GttEntry.LOW_FLAGS) | GttEntry.PRESENT);
                releaseOld(oldChild, oldHuge);
                return;
            }
            Spt split = splitHuge(first, ge);
            long entry = split == null ? scratch.notPresentEntry(2)
                    : split.shadow.deviceAddress() | (ge & GttEntry.LOW_FLAGS & ~(GttEntry.PS | GttEntry.IPS)) | GttEntry.PRESENT;
            installChild(spt, i, split, entry);
            return;
        }
        boolean ips = (ge & GttEntry.IPS) != 0;
        long gfn = GttEntry.frame(ge);
        Spt c = getOrCreate(gfn, 1, ips);
        if (c == null) {
            invalidFrames++;
            installChild(spt, i, null, scratch.notPresentEntry(2));
            return;
        }
        installChild(spt, i, c,
                c.shadow.deviceAddress() | (ge & GttEntry.LOW_FLAGS & ~(GttEntry.PS | GttEntry.IPS)) | GttEntry.PRESENT);
    }

    private void installTable(Spt spt, int i, long ge) {
        if (!GttEntry.present(ge)) {
            installChild(spt, i, null, scratch.notPresentEntry(spt.level));
            return;
        }
        Spt c = getOrCreate(GttEntry.frame(ge), spt.level - 1, false);
        if (c == null) {
            invalidFrames++;
            installChild(spt, i, null, scratch.notPresentEntry(spt.level));
            return;
        }
        installChild(spt, i, c, c.shadow.deviceAddress() | (ge & GttEntry.LOW_FLAGS & ~GttEntry.PS) | GttEntry.PRESENT);
    }

    private void installChild(Spt spt, int i, Spt c, long entry) {
        Spt oldChild = spt.child[i];
        long oldHuge = NONE;
        if (spt.huge != null) {
            oldHuge = spt.huge[i];
            spt.huge[i] = NONE;
        }
        spt.child[i] = c;
        spt.sh.setAtIndex(ENTRY, i, entry);
        releaseOld(oldChild, oldHuge);
    }

    private void releaseOld(Spt oldChild, long oldHuge) {
        if (oldChild != null) {
            releaseSpt(oldChild);
        }
        if (oldHuge != NONE) {
            pins.releaseHuge(oldHuge);
        }
    }

    /** A private 4 KiB table (not tied to a guest page) mapping the 512 frames of a 2 MiB guest page. */
    private Spt splitHuge(long first, long pde) {
        HostBuffer shadow = allocateTable(1);
        if (shadow == null) {
            return null;
        }
        Spt spt = new Spt(PRIVATE_KEYS | nextPrivateKey++, first, 1, false, shadow, null);
        spts.put(spt.key, spt);
        long flags = (pde & 0x7FL & ~GttEntry.PS) | ((pde & GttEntry.PAT_HUGE) != 0 ? GttEntry.PAT_4K : 0) | GttEntry.PRESENT;
        for (int k = 0; k < N; k++) {
            installLeaf(spt, k, (first + k) << 12 | flags, first + k);
        }
        shadowedEntries += N;
        return spt;
    }

    // ---------------------------------------------------------------- tracked writes and sync

    private void onWrite(GuestPt page, long gpa, MemorySegment bytes) {
        traps++;
        int off = (int) (gpa & 0xFFF);
        Spt leaf = page.single4k;
        if (leaf != null && (off & 7) == 0 && bytes.byteSize() == 8 && !leaf.oos) {
            // the common case: one whole entry of an in-sync 4 KiB leaf table used at no other level
            int idx = off >>> 3;
            if (leaf.postQueued) {
                clearPost(leaf, idx); // a live table with no parked entry is not queued
            }
            shadowedEntries++;
            long ge = bytes.get(ENTRY, 0);
            installLeaf(leaf, idx, ge, GttEntry.frame(ge));
            if (config.outOfSync()) {
                countOosWrite(leaf);
            }
            return;
        }
        int len = (int) bytes.byteSize();
        int first = off >>> 3;
        int last = (off + len - 1) >>> 3;
        for (int s = 0; s < page.shadows.length; s++) {
            Spt spt = page.shadows[s];
            if (spt == null || !spt.alive || spt.oos) {
                continue;
            }
            for (int idx = first; idx <= last; idx++) {
                if (spt.level == 1 && spt.ips && (idx & 15) != 0) {
                    continue;
                }
                int start = idx << 3;
                if (start >= off && start + 8 <= off + len) {
                    clearPost(spt, idx);
                    install(spt, idx, bytes.get(ENTRY, start - off));
                } else {
                    install(spt, idx, 0);
                    markPost(spt, idx);
                }
                if (!spt.alive) {
                    break;
                }
            }
            if (config.outOfSync() && spt.alive && spt.level == 1 && page.count == 1) {
                countOosWrite(spt);
            }
        }
    }

    /** Counts a trapped write to a leaf table used at one level only; takes it out of sync at the threshold. */
    private void countOosWrite(Spt spt) {
        if (++spt.writes >= config.oosThreshold() && oosList.size() < config.oosPages()) {
            MemorySegment buf = buffers[0];
            if (readGuestPage(spt.gfn, buf)) {
                goOutOfSync(spt, buf);
            }
        }
    }

    private void goOutOfSync(Spt spt, MemorySegment guestPage) {
        long[] snap = spt.snapshot;
        if (snap == null) {
            snap = spt.snapshot = new long[N];
        }
        for (int i = 0; i < N; i++) {
            snap[i] = guestPage == null ? 0 : guestPage.getAtIndex(ENTRY, i);
        }
        spt.oos = true;
        oosList.add(spt);
        registry.disable(spt.gfn);
    }

    private void resync(Spt spt) {
        MemorySegment buf = buffers[spt.level];
        boolean read = readGuestPage(spt.gfn, buf);
        long[] snap = spt.snapshot;
        int stride = spt.level == 1 && spt.ips ? GttEntry.STRIDE_64K : 1;
        for (int i = 0; i < N; i += stride) {
            long ge = read ? buf.getAtIndex(ENTRY, i) : 0;
            if (ge != snap[i]) {
                snap[i] = ge;
                install(spt, i, ge);
                if (!spt.alive) {
                    return;
                }
            }
        }
        oosSyncs++;
        if (registry.canProtect()) {
            if (!registry.enable(spt.gfn)) {
                return;
            }
            spt.oos = false;
            spt.writes = 0;
            oosList.remove(spt);
        }
    }

    private void flushPost(Spt spt) {
        MemorySegment buf = buffers[spt.level];
        boolean read = readGuestPage(spt.gfn, buf);
        for (int w = 0; w < spt.post.length; w++) {
            long bits = spt.post[w];
            spt.post[w] = 0;
            while (bits != 0 && spt.alive) {
                int idx = w * 64 + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (spt.level == 1 && spt.ips && (idx & 15) != 0) {
                    continue;
                }
                install(spt, idx, read ? buf.getAtIndex(ENTRY, idx) : 0);
            }
        }
    }

    private void markPost(Spt spt, int idx) {
        spt.post[idx >>> 6] |= 1L << (idx & 63);
        queuePost(spt);
    }

    private void queuePost(Spt spt) {
        if (!spt.postQueued) {
            spt.postQueued = true;
            postQueue.add(spt);
        }
    }

    private void clearPost(Spt spt, int idx) {
        spt.post[idx >>> 6] &= ~(1L << (idx & 63));
    }

    private boolean readGuestPage(long gfn, MemorySegment buf) {
        try {
            memory.read(gfn << 12, buf);
            return true;
        } catch (GvtException e) {
            invalidFrames++;
            return false;
        }
    }

    private void warn(String format, Object... args) {
        if (limiter.allow() && log.isWarnEnabled()) {
            long suppressed = limiter.takeSuppressed();
            log.warn(String.format(format, args) + (suppressed > 0 ? " (" + suppressed + " similar suppressed)" : ""));
        }
    }
}
