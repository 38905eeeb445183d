package dev.jgvt.guest;

import java.util.ArrayDeque;

/**
 * The guest kernel's page allocator over its RAM: hands out 4 KiB frames (and naturally aligned runs for
 * huge pages) above a reserved low region, and takes single frames back.
 */
public final class FrameAllocator {
    private static final long PAGE = 4096;

    private final long limit;
    private long next;
    private final ArrayDeque<Long> freed = new ArrayDeque<>();

    /** Frames in {@code [reserveBelow, ramSize)}. */
    public FrameAllocator(long reserveBelow, long ramSize) {
        if (reserveBelow < 0 || reserveBelow % PAGE != 0 || ramSize <= reserveBelow) {
            throw new IllegalArgumentException("bad RAM layout: reserve " + reserveBelow + ", size " + ramSize);
        }
        this.next = reserveBelow;
        this.limit = ramSize;
    }

    /** One frame's guest physical address. */
    public long frame() {
        Long reused = freed.poll();
        return reused != null ? reused : run(PAGE, PAGE);
    }

    /** {@code bytes} of contiguous RAM aligned to {@code alignment} (e.g. 2 MiB for a huge page). */
    public long run(long bytes, long alignment) {
        long start = (next + alignment - 1) & -alignment;
        long length = (bytes + PAGE - 1) & -PAGE;
        if (start + length > limit) {
            throw new GuestException(String.format("out of guest RAM: 0x%x bytes wanted, 0x%x left", length, limit - next));
        }
        next = start + length;
        return start;
    }

    public void free(long gpa) {
        freed.push(gpa);
    }
}
