package dev.jgvt.core.display;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.mmio.MmioSpace;

/**
 * A pipe's video timing as the guest programmed it, read when the pipe is enabled: the transcoder's totals
 * (TRANS_HTOTAL/VTOTAL), where vblank starts (TRANS_VBLANK), and the pixel clock. The pixel clock of a
 * DisplayPort transcoder is the DP link's: the port clock of the DPLL its DDI takes its clock from (DPLL_CTRL2
 * names the DPLL, DPLL_CTRL1 its link rate) times LINK_M / LINK_N of the transcoder. A transcoder in another
 * mode (HDMI/DVI: a WRPLL whose dividers are not decoded here), a DDI without a DPLL, a zero M/N or a rate
 * outside 1-240 Hz gives the fallback: a 60 Hz frame, with {@link #source()} saying why.
 *
 * @param htotal pixels per line (blanking included)
 * @param vtotal lines per frame (blanking included)
 * @param vblankStart the first line of vertical blanking (0-based)
 * @param scanlineOffset how far PIPEDSL reads behind the real line: 1 on DP (and every port but HDMI), 2 on HDMI
 * @param pixelClockKhz the pixel clock derived from the registers; 0 when the fallback rate is used
 * @param frameNanos the frame period (the vblank period)
 * @param source how the period was found, for the log
 */
public record PipeTiming(int htotal, int vtotal, int vblankStart, int scanlineOffset, long pixelClockKhz, long frameNanos,
        String source) {
    /** The rate used when the registers do not give one: every mode of the virtual monitor is a 60 Hz mode. */
    public static final long FALLBACK_FRAME_NANOS = 1_000_000_000L / 60;

    static final int TRANS_HTOTAL_A = 0x60000;
    static final int TRANS_VTOTAL_A = 0x6000C;
    static final int TRANS_VBLANK_A = 0x60010;
    static final int TRANS_LINK_M1_A = 0x60040;
    static final int TRANS_LINK_N1_A = 0x60044;
    static final int TRANS_DDI_FUNC_CTL_A = 0x60400;
    static final int DPLL_CTRL1 = 0x6C058;
    static final int DPLL_CTRL2 = 0x6C05C;
    static final int TRANSCODER_STRIDE = 0x1000;
    static final int DDI_MODE_HDMI = 0;
    static final int DDI_MODE_DP_SST = 2;
    static final int DDI_MODE_DP_MST = 3;
    /** DPLL_CTRL1 link-rate codes 0-5 as port clocks in kHz (twice the link rate's MHz figure). */
    private static final long[] PORT_CLOCK_KHZ = {540_000, 270_000, 162_000, 324_000, 216_000, 432_000};

    public PipeTiming {
        requireNonNull(source, "source is null");
        if (htotal < 1 || vtotal < 1 || frameNanos < 1) {
            throw new IllegalArgumentException("htotal, vtotal and frameNanos must be positive");
        }
    }

    /** Whether the period was derived from the programmed clock (not the 60 Hz fallback). */
    public boolean derived() {
        return pixelClockKhz > 0;
    }

    /** The refresh rate in Hz. */
    public double refreshHz() {
        return 1e9 / frameNanos;
    }

    /**
     * PIPEDSL {@code nanosSinceVblank} after the start of vblank: the line the pipe scans out, {@link #scanlineOffset}
     * behind, held on the last line before the next vblank if that vblank is late (the frame counter has not moved
     * yet, so the position must not say it has).
     */
    public int scanline(long nanosSinceVblank) {
        long lines = Math.max(0, nanosSinceVblank) / Math.max(1, frameNanos / vtotal);
        lines = Math.min(lines, vtotal - 1);
        return (int) ((vblankStart + lines - scanlineOffset + 2L * vtotal) % vtotal);
    }

    /** The timing of {@code pipe} (0 = A) as programmed in {@code mmio} (transcoder A-C feed pipe A-C). */
    public static PipeTiming read(MmioSpace mmio, int pipe) {
        int t = pipe * TRANSCODER_STRIDE;
        int htotal = field(mmio.get(TRANS_HTOTAL_A + t), 16) + 1;
        int vtotal = field(mmio.get(TRANS_VTOTAL_A + t), 16) + 1;
        int vblankStart = Math.min(field(mmio.get(TRANS_VBLANK_A + t), 0) + 1, vtotal - 1);
        int ddi = mmio.get(TRANS_DDI_FUNC_CTL_A + t);
        int mode = (ddi >>> 24) & 0x7;
        int offset = mode == DDI_MODE_HDMI ? 2 : 1;
        String why;
        if (htotal < 2 || vtotal < 2) {
            why = "no transcoder timing (htotal " + htotal + ", vtotal " + vtotal + ")";
        } else if (mode != DDI_MODE_DP_SST && mode != DDI_MODE_DP_MST) {
            why = "the transcoder is in DDI mode " + mode + ", not DisplayPort: its clock is not decoded";
        } else {
            int port = (ddi >>> 28) & 0x7;
            int ctrl2 = mmio.get(DPLL_CTRL2);
            int dpll = (ctrl2 >>> (port * 3 + 1)) & 0x3;
            int ctrl1 = (mmio.get(DPLL_CTRL1) >>> (dpll * 6)) & 0x3F;
            int rate = (ctrl1 >>> 1) & 0x7;
            long linkM = mmio.get(TRANS_LINK_M1_A + t) & 0xFFFFFFL;
            long linkN = mmio.get(TRANS_LINK_N1_A + t) & 0xFFFFFFL;
            if ((ctrl2 & (1 << (port * 3))) == 0 || (ctrl1 & (1 << 5)) != 0 || rate >= PORT_CLOCK_KHZ.length) {
                why = "DDI " + (char) ('A' + port) + " has no DP clock from a DPLL (DPLL_CTRL2 0x" + Integer.toHexString(ctrl2)
                        + ", DPLL" + dpll + " CTRL1 bits 0x" + Integer.toHexString(ctrl1) + ")";
            } else if (linkM == 0 || linkN == 0) {
                why = "LINK_M/N of transcoder " + (char) ('A' + pipe) + " is " + linkM + "/" + linkN;
            } else {
                long clockKhz = (linkM * PORT_CLOCK_KHZ[rate] + linkN - 1) / linkN;
                long frame = Math.round((double) htotal * vtotal * 1e6 / clockKhz);
                if (frame >= 1_000_000_000L / 240 && frame <= 1_000_000_000L) {
                    return new PipeTiming(htotal, vtotal, vblankStart, offset, clockKhz, frame, htotal + "x" + vtotal
                            + " at " + clockKhz + " kHz (DP link M/N " + linkM + "/" + linkN + " of " + PORT_CLOCK_KHZ[rate]
                            + " kHz, DPLL" + dpll + ")");
                }
                why = htotal + "x" + vtotal + " at " + clockKhz + " kHz is " + String.format("%.2f", 1e9 / frame) + " Hz";
            }
        }
        return new PipeTiming(Math.max(htotal, 1), Math.max(vtotal, 1), Math.max(vblankStart, 0), offset, 0, FALLBACK_FRAME_NANOS,
                why + "; 60 Hz");
    }

    /** Bits 28:16 or 12:0 (from {@code shift}) of a timing register. */
    private static int field(int value, int shift) {
        return (value >>> shift) & 0x1FFF;
    }
}
