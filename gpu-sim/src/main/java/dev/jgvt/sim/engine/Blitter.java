package dev.jgvt.sim.engine;

import dev.jgvt.sim.GpuAddressSpace;
import dev.jgvt.sim.GpuAddressWalker;
import java.lang.foreign.MemorySegment;

/**
 * Linear-surface blit operations through the walker, row by row. Rectangles are clipped to the destination's
 * origin (negative coordinates are cut away, moving the source along); an empty rectangle draws nothing.
 * Surfaces are linear; pitches are signed bytes per row.
 */
final class Blitter {
    private final GpuAddressWalker walker;
    private byte[] row = new byte[4096];
    private byte[] other = new byte[4096];

    Blitter(GpuAddressWalker walker) {
        this.walker = walker;
    }

    /** A rectangle after clipping: destination origin, source origin, size in pixels (width 0 = nothing). */
    record Rect(int dx, int dy, int sx, int sy, int width, int height) {
        static Rect clip(int x1, int y1, int x2, int y2, int sx, int sy) {
            if (x1 < 0) {
                sx -= x1;
                x1 = 0;
            }
            if (y1 < 0) {
                sy -= y1;
                y1 = 0;
            }
            if (x2 <= x1 || y2 <= y1) {
                return new Rect(x1, y1, sx, sy, 0, 0);
            }
            return new Rect(x1, y1, sx, sy, x2 - x1, y2 - y1);
        }
    }

    /**
     * Fills the rectangle with {@code color}'s low {@code bpp} bytes; {@code byteMask} bit i = write byte i of each
     * pixel (all bits for a full write).
     */
    void fill(GpuAddressSpace space, long base, int pitch, Rect r, int bpp, long color, int byteMask) {
        if (r.width() == 0) {
            return;
        }
        int bytes = r.width() * bpp;
        MemorySegment seg = rowSegment(bytes);
        boolean full = byteMask == (1 << bpp) - 1;
        byte[] buf = row;
        if (full) {
            for (int i = 0; i < bytes; i++) {
                buf[i] = (byte) (color >>> (8 * (i % bpp)));
            }
        }
        for (int y = 0; y < r.height(); y++) {
            long va = base + (long) (r.dy() + y) * pitch + (long) r.dx() * bpp;
            if (!full) {
                walker.read(space, va, seg);
                for (int i = 0; i < bytes; i++) {
                    int b = i % bpp;
                    if ((byteMask & (1 << b)) != 0) {
                        buf[i] = (byte) (color >>> (8 * b));
                    }
                }
            }
            walker.write(space, va, seg);
        }
    }

    /** Copies the rectangle from the source surface; {@code byteMask} as for {@link #fill}. */
    void copy(GpuAddressSpace dstSpace, long dst, int dstPitch, GpuAddressSpace srcSpace, long src, int srcPitch,
            Rect r, int bpp, int byteMask) {
        if (r.width() == 0) {
            return;
        }
        int bytes = r.width() * bpp;
        MemorySegment seg = rowSegment(bytes);
        boolean full = byteMask == (1 << bpp) - 1;
        MemorySegment dstSeg = full ? seg : otherSegment(bytes);
        long firstDst = dst + (long) r.dy() * dstPitch + (long) r.dx() * bpp;
        long firstSrc = src + (long) r.sy() * srcPitch + (long) r.sx() * bpp;
        // Overlapping surfaces: walk rows away from the side being written, as the hardware does.
        boolean upward = dstSpace.equals(srcSpace) && firstDst > firstSrc;
        for (int i = 0; i < r.height(); i++) {
            int y = upward ? r.height() - 1 - i : i;
            long s = src + (long) (r.sy() + y) * srcPitch + (long) r.sx() * bpp;
            long d = dst + (long) (r.dy() + y) * dstPitch + (long) r.dx() * bpp;
            walker.read(srcSpace, s, seg);
            if (!full) {
                walker.read(dstSpace, d, dstSeg);
                for (int k = 0; k < bytes; k++) {
                    if ((byteMask & (1 << (k % bpp))) != 0) {
                        other[k] = row[k];
                    }
                }
            }
            walker.write(dstSpace, d, dstSeg);
        }
    }

    private MemorySegment rowSegment(int bytes) {
        if (row.length < bytes) {
            row = new byte[Integer.highestOneBit(bytes - 1) << 1];
        }
        return MemorySegment.ofArray(row).asSlice(0, bytes);
    }

    private MemorySegment otherSegment(int bytes) {
        if (other.length < bytes) {
            other = new byte[Integer.highestOneBit(bytes - 1) << 1];
        }
        return MemorySegment.ofArray(other).asSlice(0, bytes);
    }
}
