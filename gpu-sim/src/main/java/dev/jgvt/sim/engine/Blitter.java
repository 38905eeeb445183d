package dev.jgvt.sim.engine;

import dev.jgvt.sim.GpuAddressSpace;
import dev.jgvt.sim.GpuAddressWalker;
import java.lang.foreign.MemorySegment;

/**
 * Blit operations through the walker, row by row, on linear and tiled surfaces. A row of the rectangle is
 * gathered into a buffer in runs that are contiguous in memory (up to a page for a linear surface, a 512-byte
 * tile row for X, a 16-byte column for Y), changed there and scattered back the same way, so a run is one copy
 * out of one device page and each tile's page is translated once per row. Rectangles are clipped to the
 * destination's origin (negative coordinates are cut away, moving the source along); an empty rectangle draws
 * nothing. Linear pitches are signed bytes per row; tiled pitches are positive multiples of the tile width and
 * tiled surfaces start on a 4 KiB boundary (the decoder checks both).
 */
final class Blitter {
    private static final int PAGE = 4096;

    /** How a surface's bytes are laid out in graphics memory. Bit-6 swizzling is never applied (Gen9). */
    enum Tiling {
        /** Rows of {@code pitch} bytes, one after the other. */
        LINEAR(1, 1),
        /** Legacy X tiles: 4 KiB holding 512 bytes x 8 rows, row after row inside the tile. */
        X(512, 8),
        /**
         * Legacy Y tiles (TileY): 4 KiB holding 128 bytes x 32 rows, stored as eight 16-byte (OWORD) columns of 32
         * rows each.
         */
        Y(128, 32);

        /** Tile width in bytes. */
        final int width;
        /** Tile height in rows. */
        final int rows;

        Tiling(int width, int rows) {
            this.width = width;
            this.rows = rows;
        }

        /** Offset from the surface's base of byte {@code x} (bytes, not pixels) of row {@code y}; both >= 0. */
        long offset(long pitch, long x, long y) {
            return switch (this) {
                case LINEAR -> y * pitch + x;
                case X -> (y >>> 3) * pitch * 8 + ((x >>> 9) << 12) + ((y & 7) << 9) + (x & 511);
                case Y -> (y >>> 5) * pitch * 32 + ((x >>> 7) << 12) + (((x & 127) >>> 4) << 9) + ((y & 31) << 4)
                        + (x & 15);
            };
        }

        /** How many bytes from byte {@code x} of a row on are contiguous in memory (linear: up to the page end). */
        int run(long x) {
            return switch (this) {
                case LINEAR -> Integer.MAX_VALUE;
                case X -> 512 - (int) (x & 511);
                case Y -> 16 - (int) (x & 15);
            };
        }
    }

    /** One surface of a blit: address space, base graphics address, pitch in bytes, tiling. */
    record Surface(GpuAddressSpace space, long base, int pitch, Tiling tiling) {}

    private final GpuAddressWalker walker;
    private byte[] row = new byte[4096];
    private byte[] other = new byte[4096];
    private MemorySegment rowSeg = MemorySegment.ofArray(row);
    private MemorySegment otherSeg = MemorySegment.ofArray(other);

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
    void fill(Surface dst, Rect r, int bpp, long color, int byteMask) {
        if (r.width() == 0) {
            return;
        }
        int bytes = r.width() * bpp;
        ensure(bytes);
        boolean full = byteMask == (1 << bpp) - 1;
        byte[] buf = row;
        if (full) {
            for (int i = 0; i < bytes; i++) {
                buf[i] = (byte) (color >>> (8 * (i % bpp)));
            }
        }
        long x = (long) r.dx() * bpp;
        for (int y = 0; y < r.height(); y++) {
            if (!full) {
                transfer(dst, x, r.dy() + y, rowSeg, bytes, false);
                for (int i = 0; i < bytes; i++) {
                    int b = i % bpp;
                    if ((byteMask & (1 << b)) != 0) {
                        buf[i] = (byte) (color >>> (8 * b));
                    }
                }
            }
            transfer(dst, x, r.dy() + y, rowSeg, bytes, true);
        }
    }

    /** Copies the rectangle from the source surface; {@code byteMask} as for {@link #fill}. */
    void copy(Surface dst, Surface src, Rect r, int bpp, int byteMask) {
        if (r.width() == 0) {
            return;
        }
        int bytes = r.width() * bpp;
        ensure(bytes);
        boolean full = byteMask == (1 << bpp) - 1;
        long dx = (long) r.dx() * bpp;
        long sx = (long) r.sx() * bpp;
        // Overlapping surfaces: walk rows away from the side being written, as the hardware does.
        boolean upward;
        if (!dst.space().equals(src.space())) {
            upward = false;
        } else if (dst.tiling() == Tiling.LINEAR && src.tiling() == Tiling.LINEAR) {
            upward = dst.base() + (long) r.dy() * dst.pitch() + dx > src.base() + (long) r.sy() * src.pitch() + sx;
        } else {
            upward = dst.base() == src.base() && r.dy() > r.sy();
        }
        for (int i = 0; i < r.height(); i++) {
            int y = upward ? r.height() - 1 - i : i;
            transfer(src, sx, r.sy() + y, rowSeg, bytes, false);
            if (full) {
                transfer(dst, dx, r.dy() + y, rowSeg, bytes, true);
            } else {
                transfer(dst, dx, r.dy() + y, otherSeg, bytes, false);
                for (int k = 0; k < bytes; k++) {
                    if ((byteMask & (1 << (k % bpp))) != 0) {
                        other[k] = row[k];
                    }
                }
                transfer(dst, dx, r.dy() + y, otherSeg, bytes, true);
            }
        }
    }

    /**
     * Moves {@code bytes} bytes between row {@code y} of {@code s}, from byte {@code x} on, and the start of
     * {@code buf} ({@code toMemory}: buffer to surface), run by run; each run lies in one page.
     */
    private void transfer(Surface s, long x, long y, MemorySegment buf, int bytes, boolean toMemory) {
        Tiling t = s.tiling();
        long cachedVa = -1;
        MemorySegment page = null;
        int done = 0;
        while (done < bytes) {
            long at = x + done;
            long va = s.base() + t.offset(s.pitch(), at, y);
            int inPage = (int) (va & (PAGE - 1));
            int run = Math.min(Math.min(bytes - done, t.run(at)), PAGE - inPage);
            long pageVa = va - inPage;
            if (pageVa != cachedVa) {
                page = walker.pageAt(s.space(), va);
                cachedVa = pageVa;
            }
            if (toMemory) {
                MemorySegment.copy(buf, done, page, inPage, run);
            } else {
                MemorySegment.copy(page, inPage, buf, done, run);
            }
            done += run;
        }
    }

    private void ensure(int bytes) {
        if (row.length < bytes) {
            int size = Integer.highestOneBit(bytes - 1) << 1;
            row = new byte[size];
            other = new byte[size];
            rowSeg = MemorySegment.ofArray(row);
            otherSeg = MemorySegment.ofArray(other);
        }
    }
}
