package dev.jgvt.core.display;

import static dev.jgvt.core.mmio.Gen9Registers.CUR_BASE_A;
import static dev.jgvt.core.mmio.Gen9Registers.CUR_CTL_A;
import static dev.jgvt.core.mmio.Gen9Registers.CUR_POS_A;
import static dev.jgvt.core.mmio.Gen9Registers.CUR_SURFLIVE_A;
import static dev.jgvt.core.mmio.Gen9Registers.PIPEACONF;
import static dev.jgvt.core.mmio.Gen9Registers.PIPE_FLIPCOUNT_A;
import static dev.jgvt.core.mmio.Gen9Registers.PIPE_FRMCOUNT_A;
import static dev.jgvt.core.mmio.Gen9Registers.PLANE_CTL_1_A;
import static dev.jgvt.core.mmio.Gen9Registers.PLANE_OFFSET_1_A;
import static dev.jgvt.core.mmio.Gen9Registers.PLANE_POS_1_A;
import static dev.jgvt.core.mmio.Gen9Registers.PLANE_SIZE_1_A;
import static dev.jgvt.core.mmio.Gen9Registers.PLANE_STRIDE_1_A;
import static dev.jgvt.core.mmio.Gen9Registers.PLANE_SURFLIVE_1_A;
import static dev.jgvt.core.mmio.Gen9Registers.PLANE_SURF_1_A;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.irq.IrqGroup;
import dev.jgvt.core.irq.VirtualInterrupts;
import dev.jgvt.core.mmio.Behavior;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.RegisterHandler;
import dev.jgvt.core.mmio.RegisterRegistry;
import dev.jgvt.core.mmio.UnshadowedGgttWindow;
import dev.jgvt.spi.PlaneInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class VirtualDisplayTest {
    private static final long GM_BASE = 256L << 20;
    private static final long GM_SIZE = 128L << 20;
    private final List<Runnable> ticks = new ArrayList<>();
    private final List<Long> periods = new ArrayList<>();
    private long now = 1_000_000_000L;
    private final VblankClock clock = new VblankClock() {
        @Override
        public Ticking start(Runnable tick, long periodNanos) {
            ticks.add(tick);
            periods.add(periodNanos);
            return () -> ticks.remove(tick);
        }

        @Override
        public long nanoTime() {
            return now;
        }
    };
    private MmioSpace mmio;
    private VirtualInterrupts irq;
    private VirtualDisplay display;

    @BeforeEach
    void setUp() {
        mmio = new MmioSpace(RegisterRegistry.gen9(), new UnshadowedGgttWindow(MmioSpace.GGTT_WINDOW_SIZE), "test");
        irq = new VirtualInterrupts(() -> { });
        display = new VirtualDisplay(mmio, irq, clock, Runnable::run);
        mmio.bind(Behavior.PIPECONF, display.pipeconfHandler());
        mmio.bind(Behavior.PLANE_SURFACE, display.surfaceHandler());
        mmio.bind(Behavior.SCANLINE, display.scanlineHandler());
        mmio.bind(Behavior.FRAME_COUNTER, display.frameCounterHandler());
        mmio.bind(Behavior.INTERRUPT, new RegisterHandler() {
            @Override
            public int read(int offset) {
                return irq.read(offset);
            }

            @Override
            public void write(int offset, int value) {
                irq.write(offset, value);
            }
        });
        irq.write(IrqGroup.DE_PIPE_A.base() + IrqGroup.IMR, 0);
    }

    private void w(int offset, long value) {
        mmio.write(offset, 4, value);
    }

    private void tick() {
        for (Runnable r : List.copyOf(ticks)) {
            r.run();
        }
    }

    private Optional<PlaneInfo> primary() {
        return display.queryPlane(PlaneInfo.PlaneType.PRIMARY, (a, l) -> a >= GM_BASE && a + l <= GM_BASE + GM_SIZE, -1, -1);
    }

    @Test
    void vblankRunsOnlyWhilePipeIsEnabled() {
        tick();
        assertThat(display.vblanks()).isZero();
        w(PIPEACONF, 1L << 31);
        assertThat(mmio.read(PIPEACONF, 4)).isEqualTo(0xC0000000L);
        assertThat(ticks).hasSize(1);
        tick();
        tick();
        assertThat(mmio.read(PIPE_FRMCOUNT_A, 4)).isEqualTo(2);
        assertThat(irq.iir(IrqGroup.DE_PIPE_A) & 1).isEqualTo(1);
        w(PIPEACONF, 1L << 31); // again: no second timer
        assertThat(ticks).hasSize(1);
        w(PIPEACONF, 0);
        assertThat(mmio.read(PIPEACONF, 4)).isZero();
        assertThat(ticks).isEmpty();
        // the guest cannot write the state bit
        w(PIPEACONF, 1L << 30);
        assertThat(mmio.read(PIPEACONF, 4)).isZero();
    }

    /** What i915 programs for 1920x1200 CVT-RB (154.13 MHz) over DP on DDI D, HBR2 from DPLL1, on {@code pipe}. */
    private void programDpMode(int pipe, int ddiMode) {
        int t = pipe * 0x1000;
        w(0x60000 + t, (2080 - 1) << 16 | (1920 - 1));   // TRANS_HTOTAL
        w(0x6000c + t, (1235 - 1) << 16 | (1200 - 1));   // TRANS_VTOTAL
        w(0x60010 + t, (1235 - 1) << 16 | (1200 - 1));   // TRANS_VBLANK: start 1200, end 1235
        w(0x60040 + t, 149_645);                          // LINK_M1: 154130 / 540000 * 2^19
        w(0x60044 + t, 0x80000);                          // LINK_N1
        w(0x60400 + t, 1 << 31 | 3 << 28 | ddiMode << 24); // TRANS_DDI_FUNC_CTL: DDI D
        w(0x6c058, (1 << 0 | 0 << 1) << 6);               // DPLL_CTRL1: DPLL1 override, link rate 2700 (HBR2)
        w(0x6c05c, (1 << 9 | 1 << 10));                   // DPLL_CTRL2: DDI D override, clock from DPLL1
    }

    @Test
    void theVblankPeriodFollowsTheProgrammedModeAndTheScanLineMovesWithIt() {
        programDpMode(0, PipeTiming.DDI_MODE_DP_SST);
        w(PIPEACONF, 1L << 31);
        PipeTiming t = display.timing(0).orElseThrow();
        assertThat(t.derived()).as(t.source()).isTrue();
        assertThat(t.pixelClockKhz()).isEqualTo(154_130);
        // 2080 x 1235 at 154.13 MHz: 16.6665 ms, 60.0008 Hz
        assertThat(periods).containsExactly(16_666_450L);
        assertThat(t.refreshHz()).isCloseTo(60.0008, org.assertj.core.data.Offset.offset(0.0001));

        // PIPEDSL reads one line behind (DP): vblank starts at line 1200, so 1199 right after the vblank
        int dsl = VirtualDisplay.PIPEDSL_A;
        long start = now;
        assertThat(mmio.read(dsl, 4)).isEqualTo(1199);
        long line = t.frameNanos() / 1235;
        now += 10 * line;
        assertThat(mmio.read(dsl, 4)).isEqualTo(1209);
        now += 30 * line; // past vtotal: wraps to the first active line
        assertThat(mmio.read(dsl, 4)).isEqualTo(4);
        assertThat(mmio.read(PIPE_FRMCOUNT_A, 4)).isZero();
        now += t.frameNanos(); // the tick of the next vblank is late: the frame has begun all the same
        assertThat(mmio.read(PIPE_FRMCOUNT_A, 4)).isEqualTo(1);
        assertThat(mmio.read(dsl, 4)).as("40 lines after the vblank's time").isEqualTo(1239 - 1235);
        assertThat(irq.iir(IrqGroup.DE_PIPE_A) & 1).as("no interrupt before the tick").isZero();
        tick(); // the late tick delivers the interrupt; count and position stay the clock's
        assertThat(irq.iir(IrqGroup.DE_PIPE_A) & 1).isEqualTo(1);
        assertThat(mmio.read(PIPE_FRMCOUNT_A, 4)).isEqualTo(1);
        assertThat(mmio.read(dsl, 4)).isEqualTo(1239 - 1235);
        now = start + 2 * t.frameNanos() - 2 * line;
        tick(); // an early tick (not from the real clock): a frame at least per tick, at the start of vblank
        assertThat(mmio.read(PIPE_FRMCOUNT_A, 4)).isEqualTo(2);
        assertThat(mmio.read(dsl, 4)).isEqualTo(1199);
        w(dsl, 77); // read-only
        assertThat(mmio.read(dsl, 4)).isEqualTo(1199);
        now += 3 * t.frameNanos();
        w(PIPE_FRMCOUNT_A, 0); // read-only
        assertThat(mmio.read(PIPE_FRMCOUNT_A, 4)).isEqualTo(4);
        w(PIPEACONF, 0);
        assertThat(display.timing(0)).isEmpty();
        assertThat(mmio.read(dsl, 4)).as("a pipe that is off does not scan").isZero();
        now += 10 * t.frameNanos();
        assertThat(mmio.read(PIPE_FRMCOUNT_A, 4)).as("nor count").isEqualTo(4);
        w(PIPEACONF, 1L << 31);
        now += t.frameNanos();
        assertThat(mmio.read(PIPE_FRMCOUNT_A, 4)).as("counting on from there").isEqualTo(5);
    }

    @Test
    void aTimingTheRegistersDoNotGiveFallsBackToSixtyHertz() {
        w(PIPEACONF, 1L << 31); // nothing programmed
        assertThat(periods).containsExactly(VirtualDisplay.VBLANK_PERIOD_NANOS);
        assertThat(display.timing(0).orElseThrow().source()).contains("no transcoder timing").endsWith("60 Hz");
        w(PIPEACONF, 0);

        programDpMode(0, PipeTiming.DDI_MODE_HDMI);
        w(PIPEACONF, 1L << 31);
        PipeTiming hdmi = display.timing(0).orElseThrow();
        assertThat(hdmi.derived()).isFalse();
        assertThat(hdmi.source()).contains("not DisplayPort");
        assertThat(hdmi.frameNanos()).isEqualTo(VirtualDisplay.VBLANK_PERIOD_NANOS);
        assertThat(mmio.read(VirtualDisplay.PIPEDSL_A, 4)).as("HDMI reads two lines behind").isEqualTo(1198);
        w(PIPEACONF, 0);

        programDpMode(0, PipeTiming.DDI_MODE_DP_SST);
        w(0x60044, 0); // LINK_N1
        w(PIPEACONF, 1L << 31);
        assertThat(display.timing(0).orElseThrow().source()).contains("LINK_M/N");
        w(PIPEACONF, 0);

        programDpMode(0, PipeTiming.DDI_MODE_DP_SST);
        w(0x6c058, 1 << 6 | 1 << 11); // DPLL1 in HDMI mode: no DP link rate
        w(PIPEACONF, 1L << 31);
        assertThat(display.timing(0).orElseThrow().source()).contains("no DP clock");
        w(PIPEACONF, 0);

        programDpMode(0, PipeTiming.DDI_MODE_DP_SST);
        w(0x60040, 1); // a clock of 2 kHz: far below 1 Hz
        w(PIPEACONF, 1L << 31);
        assertThat(display.timing(0).orElseThrow().derived()).isFalse();
    }

    @Test
    void pipeBTakesItsOwnTranscodersTiming() {
        programDpMode(1, PipeTiming.DDI_MODE_DP_SST);
        w(0x71008, 1L << 31);
        assertThat(display.timing(1).orElseThrow().pixelClockKhz()).isEqualTo(154_130);
        assertThat(display.timing(0)).isEmpty();
        assertThat(mmio.read(0x71000, 4)).isEqualTo(1199);
    }

    @Test
    void flipDoneArrivesAtTheNextVblank() {
        w(PIPEACONF, 1L << 31);
        w(PLANE_SURF_1_A, GM_BASE);
        assertThat(mmio.read(PLANE_SURFLIVE_1_A, 4)).isEqualTo(GM_BASE);
        assertThat(mmio.read(PIPE_FLIPCOUNT_A, 4)).isEqualTo(1);
        int flipBit = 1 << IrqEvent.PIPE_A_PRIMARY_FLIP_DONE.bit();
        assertThat(irq.iir(IrqGroup.DE_PIPE_A) & flipBit).isZero();
        tick();
        assertThat(irq.iir(IrqGroup.DE_PIPE_A) & flipBit).isEqualTo(flipBit);
        irq.write(IrqGroup.DE_PIPE_A.base() + IrqGroup.IIR, flipBit);
        tick();
        assertThat(irq.iir(IrqGroup.DE_PIPE_A) & flipBit).isZero();
        // async flips complete at once
        w(PLANE_CTL_1_A, VirtualDisplay.PLANE_CTL_ASYNC_FLIP);
        w(PLANE_SURF_1_A, GM_BASE + 0x10000);
        assertThat(irq.iir(IrqGroup.DE_PIPE_A) & flipBit).isEqualTo(flipBit);
        w(CUR_BASE_A, GM_BASE + 0x2000);
        assertThat(mmio.read(CUR_SURFLIVE_A, 4)).isEqualTo(GM_BASE + 0x2000);
    }

    @ParameterizedTest(name = "pipe {0}")
    @CsvSource({"1, DE_PIPE_B, PIPE_B_VBLANK, PIPE_B_PRIMARY_FLIP_DONE", "2, DE_PIPE_C, PIPE_C_VBLANK, PIPE_C_PRIMARY_FLIP_DONE"})
    void pipesBAndCHaveTheirOwnVblankFlipsAndCounters(int pipe, IrqGroup group, IrqEvent vblank, IrqEvent flip) {
        int d = pipe * VirtualDisplay.PIPE_STRIDE;
        irq.write(group.base() + IrqGroup.IMR, 0);
        w(PIPEACONF + d, 1L << 31);
        assertThat(mmio.read(PIPEACONF + d, 4)).isEqualTo(0xC0000000L);
        assertThat(display.vblankRunning(pipe)).isTrue();
        assertThat(display.vblankRunning(0)).isFalse();
        w(PLANE_SURF_1_A + d, GM_BASE);
        assertThat(mmio.read(PLANE_SURFLIVE_1_A + d, 4)).isEqualTo(GM_BASE);
        assertThat(mmio.read(PIPE_FLIPCOUNT_A + d, 4)).isEqualTo(1);
        assertThat(irq.iir(group) & (1 << flip.bit())).isZero();
        tick();
        assertThat(mmio.read(PIPE_FRMCOUNT_A + d, 4)).isEqualTo(1);
        assertThat(mmio.read(PIPE_FRMCOUNT_A, 4)).as("pipe A untouched").isZero();
        assertThat(irq.iir(group) & (1 << vblank.bit())).isNotZero();
        assertThat(irq.iir(group) & (1 << flip.bit())).isNotZero();
        assertThat(irq.iir(IrqGroup.DE_PIPE_A)).isZero();
        assertThat(display.vblanks(pipe)).isEqualTo(1);

        // the shown plane is this pipe's while pipe A is off
        w(PLANE_CTL_1_A + d, (1L << 31) | (4L << 24));
        w(PLANE_SIZE_1_A + d, (99L << 16) | 199);
        w(PLANE_STRIDE_1_A + d, 13); // 13 * 64 >= 200 * 4
        assertThat(primary()).map(PlaneInfo::width).contains(200);
        w(PIPEACONF + d, 0);
        assertThat(display.vblankRunning()).isFalse();
        assertThat(primary()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({
        "4, false, 0, XR24, 4",
        "4, true, 0, XB24, 4",
        "2, false, 0, XR30, 4",
        "2, true, 0, XB30, 4",
        "14, false, 0, RG16, 2",
        "4, false, 1, XR24, 4",
        "4, false, 4, XR24, 4"})
    void primaryPlaneDecodes(int format, boolean rgbx, int tiling, String fourcc, int bpp) {
        int unit = switch (tiling) {
            case 1 -> 512;
            case 4 -> 128;
            default -> 64;
        };
        int width = 1280;
        int height = 720;
        int stride = width * bpp;
        w(PIPEACONF, 1L << 31);
        w(PLANE_SIZE_1_A, ((height - 1) << 16) | (width - 1));
        w(PLANE_STRIDE_1_A, stride / unit);
        w(PLANE_SURF_1_A, GM_BASE + 0x10_0000);
        w(PLANE_POS_1_A, (5 << 16) | 7);
        w(PLANE_OFFSET_1_A, 0);
        w(PLANE_CTL_1_A, (1L << 31) | ((long) format << 24) | (rgbx ? 1 << 20 : 0) | (tiling << 10));
        PlaneInfo p = primary().orElseThrow();
        int expectedFourcc = fourcc.charAt(0) | fourcc.charAt(1) << 8 | fourcc.charAt(2) << 16 | fourcc.charAt(3) << 24;
        assertThat(p.drmFormat()).isEqualTo(expectedFourcc);
        assertThat(p.width()).isEqualTo(width);
        assertThat(p.height()).isEqualTo(height);
        assertThat(p.stride()).isEqualTo(stride);
        assertThat(p.graphicsAddress()).isEqualTo(GM_BASE + 0x10_0000);
        assertThat(p.x()).isEqualTo(7);
        assertThat(p.y()).isEqualTo(5);
    }

    @Test
    void misprogrammedOrDisabledPlanesAreEmpty() {
        w(PLANE_SIZE_1_A, (767 << 16) | 1023);
        w(PLANE_STRIDE_1_A, 4096 / 64);
        w(PLANE_SURF_1_A, GM_BASE);
        w(PLANE_CTL_1_A, (1L << 31) | (4L << 24));
        assertThat(primary()).isEmpty(); // pipe off
        w(PIPEACONF, 1L << 31);
        assertThat(primary()).isPresent();
        w(PLANE_STRIDE_1_A, 1); // 64 bytes for 1024 pixels
        assertThat(primary()).isEmpty();
        w(PLANE_STRIDE_1_A, 0);
        assertThat(primary()).isEmpty();
        w(PLANE_STRIDE_1_A, 4096 / 64);
        w(PLANE_CTL_1_A, (1L << 31) | (8L << 24)); // a YUV/indexed format the query does not decode
        assertThat(primary()).isEmpty();
        w(PLANE_CTL_1_A, (1L << 31) | (4L << 24) | (7 << 10)); // reserved tiling
        assertThat(primary()).isEmpty();
        w(PLANE_CTL_1_A, (1L << 31) | (4L << 24));
        w(PLANE_SURF_1_A, GM_BASE + GM_SIZE - 0x1000); // runs past the vGPU's memory
        assertThat(primary()).isEmpty();
        w(PLANE_SURF_1_A, 0);
        assertThat(primary()).isEmpty();
        w(PLANE_SURF_1_A, GM_BASE);
        w(PLANE_CTL_1_A, 4L << 24);
        assertThat(primary()).isEmpty();
    }

    @Test
    void cursorDecodesModePositionAndHotspot() {
        w(PIPEACONF, 1L << 31);
        w(CUR_BASE_A, GM_BASE + 0x4000);
        w(CUR_POS_A, (1L << 31) | (3 << 16) | 10); // y = -3, x = 10
        assertThat(display.queryPlane(PlaneInfo.PlaneType.CURSOR, (a, l) -> true, -1, -1)).isEmpty();
        w(CUR_CTL_A, VirtualDisplay.CURSOR_64_ARGB);
        PlaneInfo c = display.queryPlane(PlaneInfo.PlaneType.CURSOR, (a, l) -> true, 2, 4).orElseThrow();
        assertThat(c.width()).isEqualTo(64);
        assertThat(c.stride()).isEqualTo(256);
        assertThat(c.drmFormat()).isEqualTo(VirtualDisplay.DRM_ARGB8888);
        assertThat(c.graphicsAddress()).isEqualTo(GM_BASE + 0x4000);
        assertThat(c.x()).isEqualTo(12);
        assertThat(c.y()).isEqualTo(1);
        w(CUR_CTL_A, VirtualDisplay.CURSOR_256_ARGB);
        assertThat(display.queryPlane(PlaneInfo.PlaneType.CURSOR, (a, l) -> true, -1, -1).orElseThrow().width()).isEqualTo(256);
        assertThat(display.queryPlane(PlaneInfo.PlaneType.CURSOR, (a, l) -> false, -1, -1)).isEmpty();
    }
}
