package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.core.track.PageTrackRegistry;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the shadow tables in step with the guest's later writes to its page tables. A tracked write (already
 * committed by the plugin) re-shadows the entries it fully covers; a partially written entry is parked at scratch
 * and re-read before the next submission. In relaxed mode ({@link PpgttConfig#outOfSync}) a leaf table written
 * often is unprotected and compared against a snapshot at {@link #sync}; without page tracking every table is
 * always out of sync.
 */
final class TableSync {
    private static final ValueLayout.OfLong ENTRY = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int N = GttEntry.ENTRIES;

    private final ShadowTables tables;
    private final PageTrackRegistry registry;
    private final PpgttConfig config;
    private final PpgttCounters counters;
    private final List<Spt> postQueue = new ArrayList<>();
    private final List<Spt> oosList = new ArrayList<>();

    TableSync(ShadowTables tables, PageTrackRegistry registry, PpgttConfig config, PpgttCounters counters) {
        this.tables = requireNonNull(tables, "tables is null");
        this.registry = requireNonNull(registry, "registry is null");
        this.config = requireNonNull(config, "config is null");
        this.counters = requireNonNull(counters, "counters is null");
    }

    /** Brings parked (partially written) entries and out-of-sync tables up to date. Before each submission. */
    void sync() {
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

    /** {@code spt} is being released: it leaves the parked and out-of-sync lists. */
    void forget(Spt spt) {
        if (spt.postQueued) {
            postQueue.remove(spt);
            spt.postQueued = false;
        }
        if (spt.oos) {
            oosList.remove(spt);
            spt.oos = false;
        }
    }

    /** Tables out of sync right now. */
    int outOfSync() {
        return oosList.size();
    }

    void onWrite(GuestPt page, long gpa, MemorySegment bytes) {
        counters.traps++;
        int off = (int) (gpa & 0xFFF);
        Spt leaf = page.single4k;
        if (leaf != null && (off & 7) == 0 && bytes.byteSize() == 8 && !leaf.oos) {
            // the common case: one whole entry of an in-sync 4 KiB leaf table used at no other level
            int idx = off >>> 3;
            if (leaf.postQueued) {
                clearPost(leaf, idx); // a live table with no parked entry is not queued
            }
            counters.shadowedEntries++;
            long ge = bytes.get(ENTRY, 0);
            tables.installLeaf(leaf, idx, ge, GttEntry.frame(ge));
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
                    tables.install(spt, idx, bytes.get(ENTRY, start - off));
                } else {
                    tables.install(spt, idx, 0);
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
            MemorySegment buf = tables.buffer(0);
            if (tables.readGuestPage(spt.gfn, buf)) {
                goOutOfSync(spt, buf);
            }
        }
    }

    void goOutOfSync(Spt spt, MemorySegment guestPage) {
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

    void resync(Spt spt) {
        MemorySegment buf = tables.buffer(spt.level);
        boolean read = tables.readGuestPage(spt.gfn, buf);
        long[] snap = spt.snapshot;
        int stride = spt.level == 1 && spt.ips ? GttEntry.STRIDE_64K : 1;
        for (int i = 0; i < N; i += stride) {
            long ge = read ? buf.getAtIndex(ENTRY, i) : 0;
            if (ge != snap[i]) {
                snap[i] = ge;
                tables.install(spt, i, ge);
                if (!spt.alive) {
                    return;
                }
            }
        }
        counters.oosSyncs++;
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
        MemorySegment buf = tables.buffer(spt.level);
        boolean read = tables.readGuestPage(spt.gfn, buf);
        for (int w = 0; w < spt.post.length; w++) {
            long bits = spt.post[w];
            spt.post[w] = 0;
            while (bits != 0 && spt.alive) {
                int idx = w * 64 + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (spt.level == 1 && spt.ips && (idx & 15) != 0) {
                    continue;
                }
                tables.install(spt, idx, read ? buf.getAtIndex(ENTRY, idx) : 0);
            }
        }
    }

    void markPost(Spt spt, int idx) {
        spt.post[idx >>> 6] |= 1L << (idx & 63);
        queuePost(spt);
    }

    void queuePost(Spt spt) {
        if (!spt.postQueued) {
            spt.postQueued = true;
            postQueue.add(spt);
        }
    }

    private void clearPost(Spt spt, int idx) {
        spt.post[idx >>> 6] &= ~(1L << (idx & 63));
    }
}
