package dev.jgvt.core.gtt;

import dev.jgvt.core.track.TrackedWriteHandler;
import java.lang.foreign.MemorySegment;

/**
 * A guest page-table page: its tracking registration and the shadows built from it (one per level and flavour it is
 * used at). Tracked writes to it go to {@link TableSync}.
 */
final class GuestPt implements TrackedWriteHandler {
    final long gfn;
    private final TableSync sync;
    final Spt[] shadows = new Spt[8];
    int count;
    /** The shadow when it is the only one and a plain 4 KiB leaf table (the tracked-write fast path), else null. */
    Spt single4k;

    void countChanged() {
        single4k = count == 1 ? shadows[0] : null;
    }

    GuestPt(long gfn, TableSync sync) {
        this.gfn = gfn;
        this.sync = sync;
    }

    @Override
    public void trackedWrite(long gpa, MemorySegment bytes) {
        sync.onWrite(this, gpa, bytes);
    }
}
