package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The guest driver's display code: a linear XRGB8888 framebuffer in its aperture balloon, backed by guest
 * RAM through GGTT entries it writes in BAR0's GGTT window, scanned out by pipe A's primary plane.
 */
public final class GuestDisplay {
    static final long GGTT_WINDOW = 8L << 20;
    static final long GGTT_PRESENT = 1;
    static final long PIPEACONF = 0x70008;
    static final long PIPEASRC = 0x6001C;
    static final long PLANE_CTL = 0x70180;
    static final long PLANE_STRIDE = 0x70188;
    static final long PLANE_POS = 0x7018C;
    static final long PLANE_SIZE = 0x70190;
    static final long PLANE_SURF = 0x7019C;
    static final long PLANE_OFFSET = 0x701A4;
    static final int ENABLE = 1 << 31;
    static final int FORMAT_XRGB8888 = 4 << 24;
    private static final long PAGE = 4096;

    /** A framebuffer: its graphics address, the guest RAM behind it (contiguous), and its geometry. */
    public record Framebuffer(long gma, long gpa, int width, int height, int stride) {
        public long bytes() {
            return ((long) stride * height + PAGE - 1) & -PAGE;
        }
    }

    private final GuestPlatform platform;

    public GuestDisplay(GuestPlatform platform) {
        this.platform = requireNonNull(platform, "platform is null");
    }

    /**
     * Allocates a framebuffer: graphics memory from the aperture balloon, RAM from the frame allocator,
     * and one GGTT entry per page written through BAR0 (8-byte writes, one entry each).
     */
    public Framebuffer allocate(GmAllocator aperture, FrameAllocator frames, int width, int height) {
        int stride = (width * 4 + 63) & -64;
        long bytes = ((long) stride * height + PAGE - 1) & -PAGE;
        long gma = aperture.allocate(bytes, 256 << 10);
        long gpa = frames.run(bytes, PAGE);
        for (long off = 0; off < bytes; off += PAGE) {
            writeGgtt(gma + off, gpa + off);
        }
        return new Framebuffer(gma, gpa, width, height, stride);
    }

    /** Points the GGTT entry for graphics address {@code gma} at guest frame {@code gpa}. */
    public void writeGgtt(long gma, long gpa) {
        platform.mmioWrite(GuestPlatform.BAR0, GGTT_WINDOW + (gma >>> 12) * 8, 8, (gpa & ~(PAGE - 1)) | GGTT_PRESENT);
    }

    /** Reads back the GGTT entry for {@code gma}, as the guest sees it. */
    public long readGgtt(long gma) {
        return platform.mmioRead(GuestPlatform.BAR0, GGTT_WINDOW + (gma >>> 12) * 8, 8);
    }

    /** Draws {@link Picture} frame {@code frame} of vGPU {@code index} into the framebuffer's RAM with the CPU. */
    public void draw(Framebuffer fb, int index, int frame) {
        List<Picture.Rect> overlays = Picture.overlays(index, frame, fb.width(), fb.height());
        paint(platform, fb.gpa(), fb.stride(), fb.width(), fb.height(),
                (x, y) -> Picture.pixel(overlays, index, fb.width(), fb.height(), x, y));
    }

    /** What a CPU-drawn surface holds at (x, y). */
    @FunctionalInterface
    interface PixelSource {
        int pixel(int x, int y);
    }

    /** Writes a {@code width} x {@code height} XRGB8888 surface of pitch {@code stride} at {@code gpa}, row by row. */
    static void paint(GuestPlatform platform, long gpa, int stride, int width, int height, PixelSource source) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = arena.allocate(stride);
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    row.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), x * 4L, source.pixel(x, y));
                }
                platform.ramWrite(gpa + (long) y * stride, row);
            }
        }
    }

    /** Programs pipe A and its primary plane to scan out {@code fb}, then flips to it. */
    public void scanOut(Framebuffer fb) {
        write(PIPEASRC, ((fb.width() - 1L) << 16) | (fb.height() - 1L));
        write(PLANE_SIZE, ((fb.height() - 1L) << 16) | (fb.width() - 1L));
        write(PLANE_STRIDE, fb.stride() / 64);
        write(PLANE_POS, 0);
        write(PLANE_OFFSET, 0);
        write(PLANE_CTL, (ENABLE | FORMAT_XRGB8888) & 0xFFFF_FFFFL);
        write(PIPEACONF, ENABLE & 0xFFFF_FFFFL);
        write(PLANE_SURF, fb.gma());
        PvInfo.signalDisplayReady(platform);
    }

    /** Flips to {@code fb}: a PLANE_SURF write, latched at the next vblank, which raises flip done. */
    public void flip(Framebuffer fb) {
        write(PLANE_SURF, fb.gma());
    }

    private void write(long offset, long value) {
        platform.mmioWrite(GuestPlatform.BAR0, offset, 4, value);
    }
}
