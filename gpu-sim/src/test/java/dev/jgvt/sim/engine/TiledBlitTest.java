package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Blits on X- and Y-tiled surfaces: single pixels at hand-computed byte offsets, whole surfaces against a
 * reference tiling written here, round trips linear → X → Y → linear, and XY_FAST_COPY_BLT agreeing with
 * XY_SRC_COPY_BLT (tiling from DW0 bits plus BCS_SWCTRL).
 */
final class TiledBlitTest {
    private static final long RING = 0x10_0000;
    private static final int PAGES = 8;
    /** 256 pixels of 32 bpp: two X tiles or eight Y tiles per tile row. */
    private static final int PITCH = 1024;
    private static final int WIDTH = 256;
    /** Four X tile rows, one Y tile row: 8 pages either way. */
    private static final int HEIGHT = 32;
    private static final int SWCTRL_SRC_Y = 1;
    private static final int SWCTRL_DST_Y = 2;

    private final GpuMemory mem = new GpuMemory();
    private final GpuMemory.Ring ring = mem.ring(RING, 4096, 0);
    private final GpuMemory.Surface lin = mem.ppgtt(0x8000_0000L, PAGES);
    private final GpuMemory.Surface xs = mem.ppgtt(0x8010_0000L, PAGES);
    private final GpuMemory.Surface ys = mem.ppgtt(0x8020_0000L, PAGES);
    private final GpuMemory.Surface out = mem.ppgtt(0x8030_0000L, PAGES);
    private final GpuMemory.Surface other = mem.ppgtt(0x8040_0000L, PAGES);

    @AfterEach
    void close() {
        mem.close();
    }

    private enum T { LINEAR, X, Y }

    /** Reference tiling: where byte {@code x} of row {@code y} of a surface of {@code pitch} bytes is stored. */
    private static int at(T t, int pitch, int x, int y) {
        return switch (t) {
            case LINEAR -> y * pitch + x;
            case X -> (y / 8) * (pitch * 8) + (x / 512) * 4096 + (y % 8) * 512 + (x % 512);
            case Y -> (y / 32) * (pitch * 32) + (x / 128) * 4096 + ((x % 128) / 16) * 512 + (y % 32) * 16 + (x % 16);
        };
    }

    /** BCS_SWCTRL as i915 and IGT load it: both enable bits, the Y bits as wanted. */
    private static int[] swctrl(int yBits) {
        return Cmd.lri(BlitCommands.BCS_SWCTRL, (SWCTRL_SRC_Y | SWCTRL_DST_Y) << 16 | yBits);
    }

    /** XY_SRC_COPY_BLT of the whole surface; a tiled surface's pitch is given in dwords, its DW0 bit set. */
    private static int[] srcCopy(GpuMemory.Surface dst, T dt, GpuMemory.Surface src, T st) {
        int[] c = Cmd.srcCopyBlt(dst.address(), dt == T.LINEAR ? PITCH : PITCH / 4, 0, 0, WIDTH, HEIGHT,
                src.address(), st == T.LINEAR ? PITCH : PITCH / 4, 0, 0);
        c[0] |= (dt == T.LINEAR ? 0 : 1 << 11) | (st == T.LINEAR ? 0 : 1 << 15);
        return c;
    }

    private static int code(T t) {
        return switch (t) {
            case LINEAR -> 0;
            case X -> 1;
            case Y -> 2;
        };
    }

    /** XY_FAST_COPY_BLT, 32 bpp, legacy Y for Y. */
    private static int[] fastCopy(GpuMemory.Surface dst, T dt, GpuMemory.Surface src, T st) {
        int[] c = Cmd.fastCopyBlt(3, dst.address(), dt == T.LINEAR ? PITCH : PITCH / 4, 0, 0, WIDTH, HEIGHT,
                src.address(), st == T.LINEAR ? PITCH : PITCH / 4, 0, 0);
        c[0] |= code(dt) << 13 | code(st) << 20;
        return c;
    }

    private void run() {
        Completion c = ring.run(Engine.BCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
    }

    @Test
    void aPixelLandsAtItsHandComputedTiledOffset() {
        Random r = new Random(1);
        xs.fill(r);
        ys.fill(r);
        byte[] xBefore = xs.bytes();
        byte[] yBefore = ys.bytes();
        // X: pixel (150, 9) = byte 600 of row 9. Tile row 9/8 = 1 -> 8 * 1024; tile 600/512 = 1 -> 4096;
        // row in tile 1 -> 512; 600 % 512 = 88: offset 12888.
        int[] fill = Cmd.colorBlt(xs.address(), PITCH / 4, 150, 9, 151, 10, 0xA1B2C3D4, true, true);
        fill[0] |= 1 << 11;
        ring.emit(swctrl(0)).emit(fill);
        // Y: pixel (50, 31) = byte 200 of row 31. Tile 200/128 = 1 -> 4096; OWORD column 72/16 = 4 -> 2048;
        // row 31 -> 31 * 16 = 496; 200 % 16 = 8: offset 6648.
        int[] fillY = Cmd.colorBlt(ys.address(), PITCH / 4, 50, 31, 51, 32, 0x0BADF00D, true, true);
        fillY[0] |= 1 << 11;
        ring.emit(swctrl(SWCTRL_DST_Y)).emit(fillY);
        run();
        assertThat(xs.getInt(12888)).isEqualTo(0xA1B2C3D4);
        assertThat(ys.getInt(6648)).isEqualTo(0x0BADF00D);
        xBefore[12888] = (byte) 0xD4;
        xBefore[12889] = (byte) 0xC3;
        xBefore[12890] = (byte) 0xB2;
        xBefore[12891] = (byte) 0xA1;
        assertThat(xs.bytes()).as("nothing else written").isEqualTo(xBefore);
        yBefore[6648] = 0x0D;
        yBefore[6649] = (byte) 0xF0;
        yBefore[6650] = (byte) 0xAD;
        yBefore[6651] = 0x0B;
        assertThat(ys.bytes()).as("nothing else written").isEqualTo(yBefore);
    }

    @Test
    void linearToXToYToLinearRoundTrips() {
        Random r = new Random(2);
        lin.fill(r);
        out.fill(r);
        byte[] source = lin.bytes();
        ring.emit(swctrl(0)).emit(srcCopy(xs, T.X, lin, T.LINEAR)); // linear -> X
        ring.emit(fastCopy(ys, T.Y, xs, T.X)); // X -> Y
        ring.emit(swctrl(SWCTRL_SRC_Y)).emit(srcCopy(out, T.LINEAR, ys, T.Y)); // Y -> linear
        run();
        byte[] x = xs.bytes();
        byte[] y = ys.bytes();
        for (int row = 0; row < HEIGHT; row++) {
            for (int b = 0; b < PITCH; b++) {
                assertThat(x[at(T.X, PITCH, b, row)]).isEqualTo(source[row * PITCH + b]);
                assertThat(y[at(T.Y, PITCH, b, row)]).isEqualTo(source[row * PITCH + b]);
            }
        }
        assertThat(x).as("X differs from linear").isNotEqualTo(source);
        assertThat(out.bytes()).isEqualTo(source);
    }

    @Test
    void fastCopyAndSrcCopyAgreeOnEveryTilingPair() {
        Random r = new Random(3);
        for (T dt : T.values()) {
            for (T st : T.values()) {
                GpuMemory.Surface src = st == T.LINEAR ? lin : st == T.X ? xs : ys;
                src.fill(r);
                out.fill(r);
                byte[] initial = out.bytes();
                for (int p = 0; p < PAGES * 4096; p += 4) {
                    other.setInt(p, out.getInt(p));
                }
                int head = ring.tail;
                int y = (dt == T.Y ? SWCTRL_DST_Y : 0) | (st == T.Y ? SWCTRL_SRC_Y : 0);
                ring.emit(swctrl(y)).emit(srcCopy(out, dt, src, st)).emit(fastCopy(other, dt, src, st));
                Completion c = ring.run(Engine.BCS, head);
                assertThat(c.completed()).as(c.toString()).isTrue();
                assertThat(other.bytes()).as("%s <- %s", dt, st).isEqualTo(out.bytes());
                assertThat(out.bytes()).as("%s <- %s wrote", dt, st).isNotEqualTo(initial);
                byte[] s = src.bytes();
                byte[] d = out.bytes();
                for (int row = 0; row < HEIGHT; row += 7) {
                    for (int b = 0; b < PITCH; b += 13) {
                        assertThat(d[at(dt, PITCH, b, row)]).isEqualTo(s[at(st, PITCH, b, row)]);
                    }
                }
            }
        }
    }

    @Test
    void aClippedTiledCopyMovesOnlyTheRectangle() {
        Random r = new Random(4);
        lin.fill(r);
        ys.fill(r);
        byte[] expected = ys.bytes();
        byte[] source = lin.bytes();
        // Destination rectangle (-3, 5) .. (70, 20) from source (10, 2): clipped to x >= 0, source moves by 3.
        int[] c = Cmd.srcCopyBlt(ys.address(), PITCH / 4, -3, 5, 70, 20, lin.address(), PITCH, 10, 2);
        c[0] |= 1 << 11;
        ring.emit(swctrl(SWCTRL_DST_Y)).emit(c);
        run();
        for (int row = 5; row < 20; row++) {
            for (int px = 0; px < 70; px++) {
                for (int b = 0; b < 4; b++) {
                    expected[at(T.Y, PITCH, px * 4 + b, row)] = source[(row - 3) * PITCH + (px + 13) * 4 + b];
                }
            }
        }
        assertThat(ys.bytes()).isEqualTo(expected);
    }

    @Test
    void bcsSwctrlIsModeMasked() {
        ring.emit(Cmd.lri(BlitCommands.BCS_SWCTRL, SWCTRL_DST_Y << 16 | SWCTRL_DST_Y));
        ring.emit(Cmd.lri(BlitCommands.BCS_SWCTRL, SWCTRL_SRC_Y << 16 | SWCTRL_SRC_Y));
        ring.emit(Cmd.lri(BlitCommands.BCS_SWCTRL, 0x3)); // no enable bits: no change
        run();
        assertThat(mem.engines.readRegister(Engine.BCS, BlitCommands.BCS_SWCTRL)).isEqualTo(3);
        int head = ring.tail;
        ring.emit(Cmd.lri(BlitCommands.BCS_SWCTRL, SWCTRL_SRC_Y << 16));
        assertThat(ring.run(Engine.BCS, head).completed()).isTrue();
        assertThat(mem.engines.readRegister(Engine.BCS, BlitCommands.BCS_SWCTRL)).isEqualTo(SWCTRL_DST_Y);
    }

    @Test
    void unsupportedTilingsAndMalformedTiledSurfacesAreIllegalCommands() {
        int[] yf = fastCopy(out, T.Y, lin, T.LINEAR);
        yf[1] |= 1 << 30; // destination Tile-Yf
        assertIllegal(yf, "Tile-Yf");
        int[] ys = fastCopy(out, T.LINEAR, lin, T.LINEAR);
        ys[0] |= 3 << 20; // source Tile-Ys
        assertIllegal(ys, "Tile-Ys");
        int[] pitch = srcCopy(xs, T.X, lin, T.LINEAR);
        pitch[1] = (pitch[1] & ~0xFFFF) | 96; // 384 bytes: not a multiple of the X tile width
        assertIllegal(pitch, "not a positive multiple of the X tile width");
        int[] base = srcCopy(xs, T.LINEAR, lin, T.X);
        base[8] += 64;
        assertIllegal(base, "4 KiB boundary");
    }

    private void assertIllegal(int[] command, String reason) {
        int head = ring.tail;
        ring.emit(swctrl(0)).emit(command);
        Completion c = ring.run(Engine.BCS, head);
        assertThat(c.error()).get().isInstanceOfSatisfying(EngineError.IllegalCommand.class,
                e -> assertThat(e.reason()).contains(reason));
    }
}
