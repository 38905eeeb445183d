package dev.jgvt.sim.engine;

/** Command encoders for tests, written from the command formats (gvt-g.md §3), independent of the engine. */
final class Cmd {
    static final int NOOP = 0;
    static final int USER_INTERRUPT = 0x02 << 23;
    static final int ARB_CHECK = 0x05 << 23;
    static final int BB_END = 0x0A << 23;

    private Cmd() {}

    static int lo(long address) {
        return (int) address;
    }

    static int hi(long address) {
        return (int) (address >>> 32);
    }

    static int[] sdi(boolean ggtt, long address, int... data) {
        int len = 3 + data.length;
        int[] c = new int[len];
        c[0] = 0x20 << 23 | (ggtt ? 1 << 22 : 0) | (data.length == 2 ? 1 << 21 : 0) | (len - 2);
        c[1] = lo(address);
        c[2] = hi(address);
        System.arraycopy(data, 0, c, 3, data.length);
        return c;
    }

    static int[] lri(int... regValuePairs) {
        int[] c = new int[1 + regValuePairs.length];
        c[0] = 0x22 << 23 | (c.length - 2);
        System.arraycopy(regValuePairs, 0, c, 1, regValuePairs.length);
        return c;
    }

    static int[] srm(boolean ggtt, int reg, long address) {
        return new int[] {0x24 << 23 | (ggtt ? 1 << 22 : 0) | 2, reg, lo(address), hi(address)};
    }

    static int[] lrm(boolean ggtt, int reg, long address) {
        return new int[] {0x29 << 23 | (ggtt ? 1 << 22 : 0) | 2, reg, lo(address), hi(address)};
    }

    static int[] lrr(int src, int dst) {
        return new int[] {0x2A << 23 | 1, src, dst};
    }

    static int[] bbStart(long address, boolean ppgtt, boolean secondLevel) {
        return new int[] {0x31 << 23 | (secondLevel ? 1 << 22 : 0) | (ppgtt ? 1 << 8 : 0) | 1, lo(address), hi(address)};
    }

    /** MI_FLUSH_DW with post-sync "write immediate" of one or two dwords. */
    static int[] flushDw(boolean ggtt, long address, boolean notify, int... data) {
        int len = 3 + data.length;
        int[] c = new int[len];
        c[0] = 0x26 << 23 | 1 << 14 | (notify ? 1 << 8 : 0) | (len - 2);
        c[1] = lo(address) | (ggtt ? 4 : 0);
        c[2] = hi(address);
        System.arraycopy(data, 0, c, 3, data.length);
        return c;
    }

    static int[] flushDwNotifyOnly() {
        return new int[] {0x26 << 23 | 1 << 8 | 2, 0, 0, 0};
    }

    /** PIPE_CONTROL (6 dwords) with post-sync "write immediate data". */
    static int[] pipeControl(boolean ggtt, long address, boolean notify, long data) {
        return new int[] {3 << 29 | 3 << 27 | 2 << 24 | 4, 1 << 14 | (ggtt ? 1 << 24 : 0) | (notify ? 1 << 8 : 0),
            lo(address), hi(address), (int) data, (int) (data >>> 32)};
    }

    static int xy(int x, int y) {
        return (y & 0xFFFF) << 16 | (x & 0xFFFF);
    }

    /** XY_COLOR_BLT, 32 bpp, writing RGB and/or alpha. */
    static int[] colorBlt(long dst, int pitch, int x1, int y1, int x2, int y2, int color, boolean rgb, boolean alpha) {
        return new int[] {2 << 29 | 0x50 << 22 | (alpha ? 1 << 21 : 0) | (rgb ? 1 << 20 : 0) | 5,
            3 << 24 | 0xF0 << 16 | (pitch & 0xFFFF), xy(x1, y1), xy(x2, y2), lo(dst), hi(dst), color};
    }

    /** XY_SRC_COPY_BLT, 32 bpp, RGB and alpha. */
    static int[] srcCopyBlt(long dst, int dstPitch, int x1, int y1, int x2, int y2, long src, int srcPitch, int sx, int sy) {
        return new int[] {2 << 29 | 0x53 << 22 | 3 << 20 | 8, 3 << 24 | 0xCC << 16 | (dstPitch & 0xFFFF), xy(x1, y1),
            xy(x2, y2), lo(dst), hi(dst), xy(sx, sy), srcPitch & 0xFFFF, lo(src), hi(src)};
    }

    /** XY_FAST_COPY_BLT, linear, color depth code {@code depth} (3 = 32 bpp). */
    static int[] fastCopyBlt(int depth, long dst, int dstPitch, int x1, int y1, int x2, int y2, long src, int srcPitch,
            int sx, int sy) {
        return new int[] {2 << 29 | 0x42 << 22 | 8, depth << 24 | (dstPitch & 0xFFFF), xy(x1, y1), xy(x2, y2), lo(dst),
            hi(dst), xy(sx, sy), srcPitch & 0xFFFF, lo(src), hi(src)};
    }
}
