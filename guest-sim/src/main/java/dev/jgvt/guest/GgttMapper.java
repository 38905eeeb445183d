package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

/**
 * Backs graphics memory from one of the guest's balloons with guest RAM: takes a range from the balloon's
 * allocator, a contiguous run of frames, and writes one GGTT entry per page through BAR0's GGTT window.
 */
final class GgttMapper {
    private static final long PAGE = 4096;

    /** A GGTT-mapped buffer: graphics address, the guest RAM behind it, its size in bytes. */
    record Mapping(long gma, long gpa, long bytes) {}

    private final GuestPlatform platform;
    private final GmAllocator gm;
    private final FrameAllocator frames;
    private long entriesWritten;

    GgttMapper(GuestPlatform platform, GmAllocator gm, FrameAllocator frames) {
        this.platform = requireNonNull(platform, "platform is null");
        this.gm = requireNonNull(gm, "gm is null");
        this.frames = requireNonNull(frames, "frames is null");
    }

    /** Maps {@code pages} zeroed pages. */
    Mapping map(int pages) {
        long bytes = pages * PAGE;
        long gma = gm.allocate(bytes, PAGE);
        long gpa = frames.run(bytes, PAGE);
        Ram.clear(platform, gpa, bytes);
        for (long off = 0; off < bytes; off += PAGE) {
            platform.mmioWrite(GuestPlatform.BAR0, GuestDisplay.GGTT_WINDOW + ((gma + off) >>> 12) * 8, 8,
                    (gpa + off) | GuestDisplay.GGTT_PRESENT);
            entriesWritten++;
        }
        return new Mapping(gma, gpa, bytes);
    }

    long entriesWritten() {
        return entriesWritten;
    }
}
