package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.core.track.GfnMap;
import dev.jgvt.core.track.PageTrackRegistry;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shadow page tables of one vGPU, built and released: one {@link Spt} per guest page-table page and level
 * (shared by every parent that references it, reference-counted), leaves pinned through the {@link PinCache},
 * 2 MiB guest pages mapped whole or split into private tables, 1 GiB pages rejected, anything unusable mapped to
 * scratch and counted. Each guest table page is registered for tracking ({@link GuestPt}); keeping the tables in
 * sync with later guest writes is {@link TableSync}'s job. The shadow-page budget is enforced here; reclaiming a
 * whole address space when it is reached is the {@link PpgttShadower}'s.
 */
final class ShadowTables {
    private static final Logger log = LoggerFactory.getLogger(ShadowTables.class);
    private static final ValueLayout.OfLong ENTRY = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int N = GttEntry.ENTRIES;
    static final long NONE = -1;
    /** Keys of private (split 2 MiB) tables: above every gfn-derived key. */
    private static final long PRIVATE_KEYS = 1L << 61;

    private final GuestMemory memory;
    private final PageTrackRegistry registry;
    private final PinCache pins;
    private final HostGpu gpu;
    private final GttScratch scratch;
    private final PpgttConfig config;
    private final PpgttCounters counters;
    private final BooleanSupplier reclaim;
    private final GfnMap<Spt> spts = new GfnMap<>(1024);
    private final GfnMap<GuestPt> guestPages = new GfnMap<>(1024);
    private final MemorySegment[] buffers = new MemorySegment[5];
    private final LogLimiter limiter = new LogLimiter(10, 1_000_000_000L);
    private TableSync sync;
    private long nextPrivateKey;
    /** Whether an allocation may reclaim another address space's shadows (only while one is being pinned). */
    boolean reclaimAllowed;
    /** Set when an allocation failed since the flag was last cleared. */
    boolean allocationFailed;

    ShadowTables(GuestMemory memory, PageTrackRegistry registry, PinCache pins, HostGpu gpu, GttScratch scratch,
            PpgttConfig config, PpgttCounters counters, BooleanSupplier reclaim) {
        this.memory = requireNonNull(memory, "memory is null");
        this.registry = requireNonNull(registry, "registry is null");
        this.pins = requireNonNull(pins, "pins is null");
        this.gpu = requireNonNull(gpu, "gpu is null");
        this.scratch = requireNonNull(scratch, "scratch is null");
        this.config = requireNonNull(config, "config is null");
        this.counters = requireNonNull(counters, "counters is null");
        this.reclaim = requireNonNull(reclaim, "reclaim is null");
        Arena arena = Arena.ofAuto();
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = arena.allocate(HostGpu.PAGE_SIZE, 8);
        }
    }

    /** Connects the sync side (the two refer to each other). */
    void connect(TableSync tableSync) {
        this.sync = requireNonNull(tableSync, "tableSync is null");
    }

    /** A 4 KiB buffer for reading a guest table page: one per level (0 for out-of-sync snapshots). */
    MemorySegment buffer(int level) {
        return buffers[level];
    }

    /** Every live shadow table. */
    Iterable<Spt> all() {
        return spts.values();
    }

    private static long key(long gfn, int level, boolean ips) {
        return gfn << 4 | (long) level << 1 | (ips ? 1 : 0);
    }

    /** The shadow of guest table {@code gfn} at {@code level}, with a new reference; null if it cannot be built. */
    Spt getOrCreate(long gfn, int level, boolean ips) {
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
            page = new GuestPt(gfn, sync);
            try {
                registry.register(gfn, page);
            } catch (GvtException e) {
                shadow.close();
                counters.shadowPages--;
                limiter.warn(log, "cannot track guest page table gfn 0x%x: %s", gfn, e.getMessage());
                return null;
            }
            guestPages.put(gfn, page);
        } else {
            // the page is about to be used at a second level or flavour: it must be trapped again
            for (Spt other : page.shadows) {
                if (other != null && other.oos && registry.canProtect()) {
                    sync.resync(other);
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
            sync.goOutOfSync(spt, read ? buf : null);
        }
        return spt;
    }

    private HostBuffer allocateTable(int level) {
        while (counters.shadowPages >= config.budgetPages()) {
            if (!reclaimAllowed || !reclaim.getAsBoolean()) {
                counters.allocationFailures++;
                allocationFailed = true;
                return null;
            }
        }
        try {
            HostBuffer buffer = gpu.allocate(HostGpu.PAGE_SIZE, "shadow L" + level);
            counters.shadowPages++;
            return buffer;
        } catch (GvtException e) {
            counters.allocationFailures++;
            allocationFailed = true;
            return null;
        }
    }

    void releaseSpt(Spt spt) {
        if (--spt.refs > 0) {
            return;
        }
        spt.alive = false;
        for (int i = 0; i < N; i++) {
            releaseSlot(spt, i);
        }
        spts.remove(spt.key);
        sync.forget(spt);
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
        counters.shadowPages--;
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
    void install(Spt spt, int i, long ge) {
        counters.shadowedEntries++;
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
                    counters.rejectedHuge1g++;
                    limiter.warn(log, "1 GiB page at PDP entry %d of gfn 0x%x rejected (entry 0x%x)", i, spt.gfn, ge);
                    installChild(spt, i, null, scratch.notPresentEntry(3));
                } else {
                    installTable(spt, i, ge);
                }
            }
            default -> installTable(spt, i, ge);
        }
    }

    void installLeaf(Spt spt, int slot, long ge, long gfn) {
        long old = spt.leafPin[slot];
        long entry;
        long held = PinCache.NO_HANDLE;
        if (!GttEntry.present(ge)) {
            entry = scratch.notPresentEntry(1);
        } else {
            held = pins.pin(gfn);
            long flags = (ge & GttEntry.LOW_FLAGS) | GttEntry.PRESENT;
            if (held == PinCache.NO_HANDLE) {
                counters.invalidFrames++;
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
                    Arrays.fill(huge, NONE);
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
            counters.invalidFrames++;
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
            counters.invalidFrames++;
            installChild(spt, i, null, scratch.notPresentEntry(spt.level));
            return;
        }
        installChild(spt, i, c, c.shadow.deviceAddress() | (ge & GttEntry.LOW_FLAGS & ~GttEntry.PS) | GttEntry.PRESENT);
    }

    void installChild(Spt spt, int i, Spt c, long entry) {
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
        counters.shadowedEntries += N;
        return spt;
    }

    boolean readGuestPage(long gfn, MemorySegment buf) {
        try {
            memory.read(gfn << 12, buf);
            return true;
        } catch (GvtException e) {
            counters.invalidFrames++;
            return false;
        }
    }
}
