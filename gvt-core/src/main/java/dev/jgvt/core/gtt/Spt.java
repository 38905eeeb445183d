package dev.jgvt.core.gtt;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.hw.GttEntry;
import java.lang.foreign.MemorySegment;

/**
 * One shadow page table (GVT-g's "spt"): the host-owned table that mirrors one guest page-table page at one level
 * (and IPS flavour), or a private 4 KiB table splitting a 2 MiB guest page. Reference-counted by its parents and
 * roots. State only; {@link ShadowTables} builds and releases it, {@link TableSync} keeps it in sync.
 */
final class Spt {
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
    final long[] post = new long[GttEntry.ENTRIES / 64];
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
        this.child = level >= 2 ? new Spt[GttEntry.ENTRIES] : null;
        this.leafPin = level == 1 ? new long[GttEntry.ENTRIES] : null;
        this.page = page;
    }

    boolean isPrivate() {
        return page == null;
    }
}
