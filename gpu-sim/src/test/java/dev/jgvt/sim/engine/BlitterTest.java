package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Blits on linear surfaces in the PPGTT (tiled surfaces: {@link TiledBlitTest}), compared with a reference computed here on plain byte arrays. */
final class BlitterTest {
    private static final long RING = 0x10_0000;
    private static final long DST = 0x8000_0000L;
    private static final long SRC = 0x9000_0000L;
    private static final int PAGES = 12;

    private final GpuMemory mem = new GpuMemory();
    private final GpuMemory.Ring ring = mem.ring(RING, 4096, 0);
    private final GpuMemory.Surface dst = mem.ppgtt(DST, PAGES);
    private final GpuMemory.Surface src = mem.ppgtt(SRC, PAGES);

    @AfterEach
    void close() {
        mem.close();
    }

    /** A random surface layout: pitch in bytes (not a power of two), width and height in pixels, fitting the pages. */
    private record Layout(int pitch, int width, int height) {
        static Layout random(Random r, int bpp) {
            int width = 8 + r.nextInt(200);
            int pitch = (width * bpp + r.nextInt(64)) & ~3;
            if (pitch < width * bpp) {
                pitch += 4;
            }
            int height = Math.min(8 + r.nextInt(60), PAGES * 4096 / pitch);
            return new Layout(pitch, width, height);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {101, 102, 103, 104, 105, 106})
    void colorBltFillsTheClippedRectangleHonouringTheWriteMask(long seed) {
        System.out.println("seed " + seed);
        Random r = new Random(seed);
        dst.fill(r);
        byte[] expected = dst.bytes();
        for (int i = 0; i < 6; i++) {
            Layout l = Layout.random(r, 4);
            int x1 = r.nextInt(l.width() + 10) - 10;
            int y1 = r.nextInt(l.height() + 10) - 10;
            int x2 = x1 - 2 + r.nextInt(l.width() - x1 + 3);
            int y2 = y1 - 2 + r.nextInt(l.height() - y1 + 3);
            x2 = Math.min(x2, l.width());
            y2 = Math.min(y2, l.height());
            int color = r.nextInt();
            boolean rgb = r.nextInt(4) != 0;
            boolean alpha = r.nextInt(4) != 0;
            ring.emit(Cmd.colorBlt(DST, l.pitch(), x1, y1, x2, y2, color, rgb, alpha));
            for (int y = Math.max(y1, 0); y < y2; y++) {
                for (int x = Math.max(x1, 0); x < x2; x++) {
                    for (int b = 0; b < 4; b++) {
                        if (b < 3 ? rgb : alpha) {
                            expected[y * l.pitch() + x * 4 + b] = (byte) (color >>> (8 * b));
                        }
                    }
                }
            }
        }
        Completion c = ring.run(Engine.BCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(dst.bytes()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {201, 202, 203, 204, 205, 206})
    void srcCopyAndFastCopyCopyTheClippedRectangle(long seed) {
        System.out.println("seed " + seed);
        Random r = new Random(seed);
        dst.fill(r);
        src.fill(r);
        byte[] expected = dst.bytes();
        byte[] source = src.bytes();
        for (int i = 0; i < 6; i++) {
            boolean fast = r.nextBoolean();
            int depth = fast ? new int[] {0, 1, 3, 4}[r.nextInt(4)] : 3;
            int bpp = new int[] {1, 2, 0, 4, 8}[depth];
            Layout d = Layout.random(r, bpp);
            Layout s = Layout.random(r, bpp);
            int w = 1 + r.nextInt(Math.min(d.width(), s.width()));
            int h = 1 + r.nextInt(Math.min(d.height(), s.height()));
            int x1 = r.nextInt(d.width() - w + 6) - 5;
            int y1 = r.nextInt(d.height() - h + 6) - 5;
            int sx = r.nextInt(s.width() - w + 1);
            int sy = r.nextInt(s.height() - h + 1);
            ring.emit(fast ? Cmd.fastCopyBlt(depth, DST, d.pitch(), x1, y1, x1 + w, y1 + h, SRC, s.pitch(), sx, sy)
                    : Cmd.srcCopyBlt(DST, d.pitch(), x1, y1, x1 + w, y1 + h, SRC, s.pitch(), sx, sy));
            for (int y = Math.max(y1, 0); y < y1 + h; y++) {
                for (int x = Math.max(x1, 0); x < x1 + w; x++) {
                    System.arraycopy(source, (sy + y - y1) * s.pitch() + (sx + x - x1) * bpp, expected,
                            y * d.pitch() + x * bpp, bpp);
                }
            }
        }
        Completion c = ring.run(Engine.BCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(dst.bytes()).isEqualTo(expected);
        assertThat(src.bytes()).isEqualTo(source);
    }

    @Test
    void anOverlappingCopyBehavesLikeAMove() {
        Random r = new Random(7);
        dst.fill(r);
        byte[] before = dst.bytes();
        byte[] expected = before.clone();
        int pitch = 400;
        // Move a 50x20 block down by 3 rows and right by 2 pixels within the same surface.
        ring.emit(Cmd.srcCopyBlt(DST, pitch, 12, 13, 62, 33, DST, pitch, 10, 10));
        for (int y = 0; y < 20; y++) {
            System.arraycopy(before, (10 + y) * pitch + 40, expected, (13 + y) * pitch + 48, 200);
        }
        assertThat(ring.run(Engine.BCS, 0).completed()).isTrue();
        assertThat(dst.bytes()).isEqualTo(expected);
    }

    @Test
    void unsupportedRopsAndMalformedTiledSurfacesAreIllegalCommands() {
        int[] rop = Cmd.colorBlt(DST, 64, 0, 0, 4, 4, 1, true, true);
        rop[1] = (rop[1] & ~0xFF_0000) | 0x5A << 16;
        ring.emit(rop);
        Completion c = ring.run(Engine.BCS, 0);
        assertThat(c.error()).get().isInstanceOfSatisfying(EngineError.IllegalCommand.class, e -> {
            assertThat(e.command()).isEqualTo("XY_COLOR_BLT");
            assertThat(e.reason()).contains("0x5a");
        });
        int head = ring.tail;
        int[] tiled = Cmd.srcCopyBlt(DST, 64, 0, 0, 4, 4, SRC, 64, 0, 0);
        tiled[0] |= 1 << 15; // an X-tiled source of 64 dwords = 256 bytes: not a multiple of the tile width
        ring.emit(tiled);
        assertThat(ring.run(Engine.BCS, head).error()).get()
                .isInstanceOfSatisfying(EngineError.IllegalCommand.class, e -> assertThat(e.reason()).contains("tiled source"));
        assertThat(dst.getInt(0)).as("nothing drawn").isNotEqualTo(1);
    }

    @Test
    void aBlitOntoAnUnmappedPageFaultsNamingTheAddress() {
        long beyond = DST + PAGES * 4096L;
        ring.emit(Cmd.colorBlt(DST, 4096, 0, 0, 4, PAGES + 1, 0x00FF00FF, true, true));
        Completion c = ring.run(Engine.BCS, 0);
        assertThat(c.error()).get().isInstanceOfSatisfying(EngineError.PageFault.class, e -> {
            assertThat(e.command()).isEqualTo("XY_COLOR_BLT");
            assertThat(e.fault().address()).isEqualTo(beyond);
        });
        assertThat(dst.getInt((PAGES - 1) * 4096L)).as("rows before the fault were drawn").isEqualTo(0x00FF00FF);
    }
}
