package dev.jgvt.plugin.fake;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Guest RAM of one fake guest: one shared-arena segment spanning guest physical addresses
 * {@code [0, size)}, plus the frames the VMM removed, the frames being removed (pins refused while the
 * unmap interlock runs) and read-only frames. Range checks are lock-free; changes happen under the
 * guest's lock.
 */
final class GuestRam {
    static final int PAGE = GuestMemory.PAGE_SIZE;

    private final String guestName;
    private final long size;
    private final long frames;
    private final Arena arena;
    private final MemorySegment segment;
    final FrameSet removed = new FrameSet();
    final FrameSet removing = new FrameSet();
    final FrameSet readOnly = new FrameSet();

    GuestRam(String guestName, long size) {
        this.guestName = guestName;
        this.size = size;
        this.frames = size / PAGE;
        this.arena = Arena.ofShared();
        try {
            this.segment = arena.allocate(size, PAGE);
        } catch (OutOfMemoryError | IllegalArgumentException e) {
            arena.close();
            throw new GvtException(ErrorCode.NO_SPACE,
                    "cannot allocate 0x" + Long.toHexString(size) + " bytes of RAM for guest " + guestName + ": " + e.getMessage(), e);
        }
    }

    long size() {
        return size;
    }

    long frames() {
        return frames;
    }

    MemorySegment segment() {
        return segment;
    }

    /** The RAM of frames {@code [gfn, gfn + count)}; the caller has checked the range. */
    MemorySegment slice(long gfn, int count) {
        return segment.asSlice(gfn * PAGE, (long) count * PAGE);
    }

    /** Whether frame {@code gfn} is guest RAM right now. */
    boolean isBacked(long gfn) {
        return gfn >= 0 && gfn < frames && !removed.contains(gfn);
    }

    /**
     * Checks that {@code [gpa, gpa + length)} is guest RAM: OUT_OF_RANGE if it wraps past 2^64, NOT_MAPPED
     * if a byte lies outside RAM or in a removed frame, PERMISSION_DENIED for a write touching a read-only
     * frame. A zero-length access is always allowed.
     */
    void check(long gpa, long length, boolean write) {
        if (length == 0) {
            return;
        }
        if (Long.compareUnsigned(gpa + length - 1, gpa) < 0) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "access of 0x" + Long.toHexString(length) + " bytes at gpa 0x"
                    + Long.toHexString(gpa) + " wraps past 2^64");
        }
        if (gpa < 0 || length > size || gpa > size - length) {
            throw new GvtException(ErrorCode.NOT_MAPPED, "access of 0x" + Long.toHexString(length) + " bytes at gpa 0x"
                    + Long.toHexString(gpa) + " leaves guest RAM [0, 0x" + Long.toHexString(size) + ") of guest " + guestName);
        }
        long first = gpa / PAGE;
        long end = (gpa + length - 1) / PAGE + 1;
        long hole = removed.firstIn(first, end);
        if (hole >= 0) {
            throw new GvtException(ErrorCode.NOT_MAPPED, "access of 0x" + Long.toHexString(length) + " bytes at gpa 0x"
                    + Long.toHexString(gpa) + " touches frame 0x" + Long.toHexString(hole)
                    + ", which the VMM removed from guest " + guestName);
        }
        if (write) {
            long locked = readOnly.firstIn(first, end);
            if (locked >= 0) {
                throw new GvtException(ErrorCode.PERMISSION_DENIED, "write of 0x" + Long.toHexString(length) + " bytes at gpa 0x"
                        + Long.toHexString(gpa) + " touches read-only frame 0x" + Long.toHexString(locked) + " of guest " + guestName);
            }
        }
    }

    /** Checks a page-aligned VMM-side range {@code [gpa, gpa + length)} inside RAM; returns its frames. */
    long[] frameRange(long gpa, long length, String action) {
        if (length <= 0 || (gpa & (PAGE - 1)) != 0 || (length & (PAGE - 1)) != 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, action + ": range gpa 0x" + Long.toHexString(gpa) + " length 0x"
                    + Long.toHexString(length) + " is not a non-empty page-aligned range");
        }
        if (gpa < 0 || length > size || gpa > size - length) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, action + ": range gpa 0x" + Long.toHexString(gpa) + " length 0x"
                    + Long.toHexString(length) + " leaves guest RAM [0, 0x" + Long.toHexString(size) + ")");
        }
        return new long[] {gpa / PAGE, (gpa + length) / PAGE};
    }

    /** Frees the RAM. Any segment derived from it becomes invalid. */
    void close() {
        arena.close();
    }
}
