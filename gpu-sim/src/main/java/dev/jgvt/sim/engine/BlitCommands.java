package dev.jgvt.sim.engine;

import dev.jgvt.sim.GpuAddressSpace;
import dev.jgvt.sim.GpuAddressWalker;

/**
 * Decodes the blitter commands the engines execute — XY_COLOR_BLT, XY_SRC_COPY_BLT, XY_FAST_COPY_BLT — and runs
 * them on the {@link Blitter}. Each method returns null when the command executed, or the reason it is an
 * illegal command (the streamer stops with {@link EngineError.IllegalCommand}); page faults propagate as
 * {@link dev.jgvt.sim.GpuFault}.
 *
 * <p>Tiling. XY_COLOR_BLT and XY_SRC_COPY_BLT: DW0 bit 11 = destination tiled, bit 15 = source tiled; a tiled
 * surface is X-tiled unless BCS_SWCTRL (0x22200, mode-masked) selects Y for it (bit 1 destination, bit 0
 * source). XY_FAST_COPY_BLT: DW0 21:20 source and 14:13 destination tiling (0 linear, 1 X, 2 Y, 3 Ys), DW1 bit 31
 * source and bit 30 destination "Y is Yf" (0 = legacy TileY). Linear, X and legacy Y are executed; Yf and Ys
 * are illegal commands here. The pitch of a tiled surface is in dwords, of a linear one in bytes.
 */
final class BlitCommands {
    /** The blitter's tiling-select register. */
    static final int BCS_SWCTRL = 0x22200;
    static final int SWCTRL_SRC_Y = 1;
    static final int SWCTRL_DST_Y = 1 << 1;

    private static final int[] BR13_BPP = {1, 2, 2, 4};
    private static final int[] FAST_BPP = {1, 2, 0, 4, 8, 16, 0, 0};
    private static final int ROP_PATCOPY = 0xF0;
    private static final int ROP_SRCCOPY = 0xCC;
    private static final int DST_TILED = 1 << 11;
    private static final int SRC_TILED = 1 << 15;

    private final Blitter blitter;

    BlitCommands(GpuAddressWalker walker) {
        this.blitter = new Blitter(walker);
    }

    String colorBlt(int[] dw, int length, GpuAddressSpace space, int swctrl) {
        if (length < 7) {
            return tooShort(7, length);
        }
        int bpp = BR13_BPP[(dw[1] >>> 24) & 3];
        String bad = rop(dw, ROP_PATCOPY);
        if (bad != null) {
            return bad;
        }
        Blitter.Tiling tiling = legacyTiling(dw[0] & DST_TILED, swctrl & SWCTRL_DST_Y);
        long base = address(dw[4], dw[5]);
        int pitch = pitch((short) dw[1], tiling);
        bad = checkSurface("destination", base, pitch, tiling);
        if (bad != null) {
            return bad;
        }
        blitter.fill(new Blitter.Surface(space, base, pitch, tiling), rect(dw[2], dw[3], 0), bpp,
                dw[6] & 0xFFFF_FFFFL, mask(dw[0], bpp));
        return null;
    }

    String srcCopyBlt(int[] dw, int length, GpuAddressSpace space, int swctrl) {
        if (length < 10) {
            return tooShort(10, length);
        }
        int bpp = BR13_BPP[(dw[1] >>> 24) & 3];
        String bad = rop(dw, ROP_SRCCOPY);
        if (bad != null) {
            return bad;
        }
        Blitter.Tiling dstTiling = legacyTiling(dw[0] & DST_TILED, swctrl & SWCTRL_DST_Y);
        Blitter.Tiling srcTiling = legacyTiling(dw[0] & SRC_TILED, swctrl & SWCTRL_SRC_Y);
        return copy(space, dw[4], dw[5], pitch((short) dw[1], dstTiling), dstTiling,
                dw[8], dw[9], pitch((short) dw[7], srcTiling), srcTiling, dw, bpp, mask(dw[0], bpp));
    }

    String fastCopyBlt(int[] dw, int length, GpuAddressSpace space) {
        if (length < 10) {
            return tooShort(10, length);
        }
        int depth = (dw[1] >>> 24) & 7;
        int bpp = FAST_BPP[depth];
        if (bpp == 0) {
            return "color depth " + depth + " is reserved";
        }
        Blitter.Tiling dstTiling = fastTiling((dw[0] >>> 13) & 3, dw[1] & (1 << 30));
        Blitter.Tiling srcTiling = fastTiling((dw[0] >>> 20) & 3, dw[1] & (1 << 31));
        if (dstTiling == null || srcTiling == null) {
            String which = dstTiling == null ? "destination" : "source";
            int code = dstTiling == null ? (dw[0] >>> 13) & 3 : (dw[0] >>> 20) & 3;
            return "the " + which + "'s tiling (" + (code == 3 ? "Tile-Ys" : "Tile-Yf")
                    + ") is not supported (linear, X and legacy Y only)";
        }
        return copy(space, dw[4], dw[5], pitch((short) dw[1], dstTiling), dstTiling,
                dw[8], dw[9], pitch((short) dw[7], srcTiling), srcTiling, dw, bpp, (1 << bpp) - 1);
    }

    private String copy(GpuAddressSpace space, int dstLo, int dstHi, int dstPitch, Blitter.Tiling dstTiling,
            int srcLo, int srcHi, int srcPitch, Blitter.Tiling srcTiling, int[] dw, int bpp, int byteMask) {
        long dst = address(dstLo, dstHi);
        long src = address(srcLo, srcHi);
        String bad = checkSurface("destination", dst, dstPitch, dstTiling);
        if (bad == null) {
            bad = checkSurface("source", src, srcPitch, srcTiling);
        }
        if (bad != null) {
            return bad;
        }
        blitter.copy(new Blitter.Surface(space, dst, dstPitch, dstTiling),
                new Blitter.Surface(space, src, srcPitch, srcTiling), rect(dw[2], dw[3], dw[6]), bpp, byteMask);
        return null;
    }

    private static Blitter.Tiling legacyTiling(int tiled, int ySelected) {
        if (tiled == 0) {
            return Blitter.Tiling.LINEAR;
        }
        return ySelected != 0 ? Blitter.Tiling.Y : Blitter.Tiling.X;
    }

    /** Fast copy's tiling code; null for Tile-Yf (code 2 with the Yf bit) and Tile-Ys (code 3). */
    private static Blitter.Tiling fastTiling(int code, int yf) {
        return switch (code) {
            case 0 -> Blitter.Tiling.LINEAR;
            case 1 -> Blitter.Tiling.X;
            case 2 -> yf == 0 ? Blitter.Tiling.Y : null;
            default -> null;
        };
    }

    /** Bytes per row: a linear pitch is signed bytes, a tiled one dwords. */
    private static int pitch(short field, Blitter.Tiling tiling) {
        return tiling == Blitter.Tiling.LINEAR ? field : 4 * field;
    }

    private static String checkSurface(String which, long base, int pitch, Blitter.Tiling tiling) {
        if (tiling == Blitter.Tiling.LINEAR) {
            return null;
        }
        if (pitch <= 0 || pitch % tiling.width != 0) {
            return "the tiled " + which + "'s pitch of " + pitch + " bytes is not a positive multiple of the "
                    + tiling + " tile width (" + tiling.width + " bytes)";
        }
        if ((base & 0xFFF) != 0) {
            return "the tiled " + which + " at 0x" + Long.toHexString(base) + " does not start on a 4 KiB boundary";
        }
        return null;
    }

    private static String tooShort(int needed, int length) {
        return "needs at least " + needed + " dwords, has " + length;
    }

    private static String rop(int[] dw, int expected) {
        int rop = (dw[1] >>> 16) & 0xFF;
        if (rop != expected) {
            return "raster operation 0x" + Integer.toHexString(rop) + " is not supported (only 0x"
                    + Integer.toHexString(expected) + ")";
        }
        return null;
    }

    private static long address(int low, int high) {
        return (low & 0xFFFF_FFFCL) | ((long) (high & 0xFFFF) << 32);
    }

    private static Blitter.Rect rect(int topLeft, int bottomRight, int source) {
        return Blitter.Rect.clip((short) topLeft, (short) (topLeft >>> 16), (short) bottomRight,
                (short) (bottomRight >>> 16), (short) source, (short) (source >>> 16));
    }

    /** 32 bpp: DW0 bit 21 writes alpha (byte 3), bit 20 writes RGB (bytes 0..2); other depths write all bytes. */
    private static int mask(int dw0, int bpp) {
        if (bpp != 4) {
            return (1 << bpp) - 1;
        }
        return ((dw0 & (1 << 20)) != 0 ? 0x7 : 0) | ((dw0 & (1 << 21)) != 0 ? 0x8 : 0);
    }
}
