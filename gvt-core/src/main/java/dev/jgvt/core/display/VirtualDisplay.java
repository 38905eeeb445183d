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
import static java.util.Objects.requireNonNull;

import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.irq.VirtualInterrupts;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.RegisterHandler;
import dev.jgvt.spi.PlaneInfo;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The virtual display's three pipes (A, B, C), each with its transcoder, primary plane (plane 1) and cursor:
 * PIPECONF enable with its state bit following, the periodic virtual vblank (running while the pipe is enabled;
 * delivered to the guest when its IMR/IER let it through), flips (a surface write takes effect at once, its
 * flip-done event is delivered at the pipe's next vblank, or at once for an async flip), frame and flip counters,
 * and plane decoding for {@code queryPlane}. Every other display register (timings, plane position/size/stride,
 * watermarks, DDB) is a plain virtual register: stored and read back. State lives in the register file; callers
 * hold the vGPU's lock (the vblank ticks take it through the {@code locked} runner given at construction).
 *
 * <p>The vblank period follows the mode: when a pipe is enabled its timing is read from the registers
 * ({@link PipeTiming}: htotal x vtotal at the DP link's pixel clock), with 60 Hz as the fallback (logged). PIPEDSL,
 * the scan-line counter, moves with the clock between vblanks: i915 derives vblank timestamps from it and, when it
 * reads 0, polls it 100 times per query, which made every vblank event cost hundreds of trapped reads. The
 * frame counter and the position follow the clock (frame n starts at enable time + n frames), not the timer
 * thread: a late tick delays the vblank interrupt, as a busy CPU delays an interrupt handler on hardware, but
 * the count and the timestamps i915 derives from the position stay those of a steady clock.
 */
public final class VirtualDisplay {
    public static final int PIPECONF_ENABLE = 1 << 31;
    public static final int PIPECONF_STATE = 1 << 30;
    public static final int PLANE_CTL_ENABLE = 1 << 31;
    public static final int PLANE_CTL_ORDER_RGBX = 1 << 20;
    public static final int PLANE_CTL_ASYNC_FLIP = 1 << 9;
    public static final int FORMAT_RGB2101010 = 2;
    public static final int FORMAT_XRGB8888 = 4;
    public static final int FORMAT_RGB565 = 14;
    public static final int TILING_LINEAR = 0;
    public static final int TILING_X = 1;
    public static final int TILING_Y = 4;
    public static final int TILING_YF = 5;
    /** Cursor modes (CUR_CTL bits 5:0): ARGB 64x64, 128x128, 256x256. */
    public static final int CURSOR_64_ARGB = 0x27;
    public static final int CURSOR_128_ARGB = 0x22;
    public static final int CURSOR_256_ARGB = 0x23;
    public static final int DRM_XRGB8888 = fourcc('X', 'R', '2', '4');
    public static final int DRM_XBGR8888 = fourcc('X', 'B', '2', '4');
    public static final int DRM_ARGB8888 = fourcc('A', 'R', '2', '4');
    public static final int DRM_XRGB2101010 = fourcc('X', 'R', '3', '0');
    public static final int DRM_XBGR2101010 = fourcc('X', 'B', '3', '0');
    public static final int DRM_RGB565 = fourcc('R', 'G', '1', '6');
    /** The DDI port the virtual monitor is on (3 = D, as GVT-g puts it on Skylake; the VBT says the same). */
    public static final int MONITOR_PORT = 3;
    /** Pipes A, B, C; each pipe's registers are {@link #PIPE_STRIDE} bytes after the previous pipe's. */
    public static final int PIPES = 3;
    public static final int PIPE_STRIDE = 0x1000;
    /** The fallback vblank period: 60 Hz. */
    public static final long VBLANK_PERIOD_NANOS = PipeTiming.FALLBACK_FRAME_NANOS;
    public static final int PIPEDSL_A = 0x70000;
    private static final Logger log = LoggerFactory.getLogger(VirtualDisplay.class);

    private static final IrqEvent[] VBLANK = {IrqEvent.PIPE_A_VBLANK, IrqEvent.PIPE_B_VBLANK, IrqEvent.PIPE_C_VBLANK};
    private static final IrqEvent[] FLIP_DONE = {IrqEvent.PIPE_A_PRIMARY_FLIP_DONE, IrqEvent.PIPE_B_PRIMARY_FLIP_DONE,
        IrqEvent.PIPE_C_PRIMARY_FLIP_DONE};

    /** Whether a graphics-memory range belongs to the vGPU (the plane query refuses surfaces outside). */
    @FunctionalInterface
    public interface GmCheck {
        boolean owns(long address, long length);
    }

    private final MmioSpace mmio;
    private final VirtualInterrupts irq;
    private final VblankClock clock;
    private final Runnable[] lockedTicks = new Runnable[PIPES];
    private final VblankClock.Ticking[] ticking = new VblankClock.Ticking[PIPES];
    private final boolean[] primaryFlipPending = new boolean[PIPES];
    private final long[] vblanks = new long[PIPES];
    private final PipeTiming[] timing = new PipeTiming[PIPES];
    /**
     * When each pipe was enabled, its frame counter then, and the ticks delivered since: frame n starts at
     * {@code enabledNanos + n * frameNanos}.
     */
    private final long[] enabledNanos = new long[PIPES];
    private final int[] counterAtEnable = new int[PIPES];
    private final long[] ticksSinceEnable = new long[PIPES];
    private final String[] lastLogged = new String[PIPES];

    /**
     * @param locked runs a task under the vGPU's lock (the vblank ticks come from the clock's thread)
     */
    public VirtualDisplay(MmioSpace mmio, VirtualInterrupts irq, VblankClock clock, java.util.function.Consumer<Runnable> locked) {
        this.mmio = requireNonNull(mmio, "mmio is null");
        this.irq = requireNonNull(irq, "irq is null");
        this.clock = requireNonNull(clock, "clock is null");
        requireNonNull(locked, "locked is null");
        for (int p = 0; p < PIPES; p++) {
            int pipe = p;
            Runnable tick = () -> vblank(pipe);
            lockedTicks[p] = () -> locked.accept(tick);
        }
    }

    /** The pipe ({@code 0..2}) of a per-pipe register at {@code offset}, given pipe A's {@code offsetA}. */
    private static int pipeOf(int offset, int offsetA) {
        return (offset - offsetA) / PIPE_STRIDE;
    }

    private static int reg(int offsetA, int pipe) {
        return offsetA + pipe * PIPE_STRIDE;
    }

    /** The handler for PIPECONF of every pipe. */
    public RegisterHandler pipeconfHandler() {
        return new RegisterHandler() {
            @Override
            public int read(int offset) {
                return mmio.get(offset);
            }

            @Override
            public void write(int offset, int value) {
                int state = (value & PIPECONF_ENABLE) != 0 ? PIPECONF_STATE : 0;
                mmio.set(offset, (value & ~PIPECONF_STATE) | state);
                int pipe = pipeOf(offset, PIPEACONF);
                if (pipe >= 0 && pipe < PIPES && offset == reg(PIPEACONF, pipe)) {
                    updateTimer(pipe);
                }
            }
        };
    }

    /** The handler for PIPEDSL of every pipe: the scan line of an enabled pipe moves with time; writes are ignored. */
    public RegisterHandler scanlineHandler() {
        return new RegisterHandler() {
            @Override
            public int read(int offset) {
                int pipe = pipeOf(offset, PIPEDSL_A);
                if (pipe < 0 || pipe >= PIPES || offset != reg(PIPEDSL_A, pipe) || timing[pipe] == null) {
                    return mmio.get(offset);
                }
                long now = clock.nanoTime();
                long lastVblank = enabledNanos[pipe] + frames(pipe, now) * timing[pipe].frameNanos();
                return timing[pipe].scanline(now - lastVblank);
            }

            @Override
            public void write(int offset, int value) {
                // read-only: the position is the pipe's
            }
        };
    }

    /**
     * The handler for PIPE_FRMCOUNT of every pipe: an enabled pipe counts the frames that began since it was
     * enabled, by the clock, even while the tick that delivers a frame's interrupt is late (as hardware counts
     * while an interrupt waits); never fewer than the ticks delivered. Writes are ignored.
     */
    public RegisterHandler frameCounterHandler() {
        return new RegisterHandler() {
            @Override
            public int read(int offset) {
                int pipe = pipeOf(offset, PIPE_FRMCOUNT_A);
                if (pipe < 0 || pipe >= PIPES || offset != reg(PIPE_FRMCOUNT_A, pipe) || timing[pipe] == null) {
                    return mmio.get(offset);
                }
                return counterAtEnable[pipe] + (int) frames(pipe, clock.nanoTime());
            }

            @Override
            public void write(int offset, int value) {
                // read-only: the count is the pipe's
            }
        };
    }

    /** Frames of an enabled {@code pipe} since it was enabled: by the clock, at least the ticks delivered. */
    private long frames(int pipe, long now) {
        long elapsed = now - enabledNanos[pipe];
        return Math.max(ticksSinceEnable[pipe], elapsed <= 0 ? 0 : elapsed / timing[pipe].frameNanos());
    }

    /** The handler for PLANE_SURF and CUR_BASE of every pipe: a flip. */
    public RegisterHandler surfaceHandler() {
        return new RegisterHandler() {
            @Override
            public int read(int offset) {
                return mmio.get(offset);
            }

            @Override
            public void write(int offset, int value) {
                mmio.set(offset, value);
                int plane = pipeOf(offset, PLANE_SURF_1_A);
                int cursor = pipeOf(offset, CUR_BASE_A);
                if (plane >= 0 && plane < PIPES && offset == reg(PLANE_SURF_1_A, plane)) {
                    mmio.set(reg(PLANE_SURFLIVE_1_A, plane), value);
                    mmio.set(reg(PIPE_FLIPCOUNT_A, plane), mmio.get(reg(PIPE_FLIPCOUNT_A, plane)) + 1);
                    if ((mmio.get(reg(PLANE_CTL_1_A, plane)) & PLANE_CTL_ASYNC_FLIP) != 0) {
                        irq.raise(FLIP_DONE[plane]);
                    } else {
                        primaryFlipPending[plane] = true;
                    }
                } else if (cursor >= 0 && cursor < PIPES && offset == reg(CUR_BASE_A, cursor)) {
                    mmio.set(reg(CUR_SURFLIVE_A, cursor), value);
                }
            }
        };
    }

    private void updateTimer(int pipe) {
        boolean enabled = (mmio.get(reg(PIPEACONF, pipe)) & PIPECONF_ENABLE) != 0;
        if (enabled && ticking[pipe] == null) {
            PipeTiming t = PipeTiming.read(mmio, pipe);
            timing[pipe] = t;
            enabledNanos[pipe] = clock.nanoTime();
            counterAtEnable[pipe] = mmio.get(reg(PIPE_FRMCOUNT_A, pipe));
            ticksSinceEnable[pipe] = 0;
            ticking[pipe] = clock.start(lockedTicks[pipe], t.frameNanos());
            logTiming(pipe, t);
        } else if (!enabled && ticking[pipe] != null) {
            ticking[pipe].cancel();
            ticking[pipe] = null;
            stopCounting(pipe);
        }
    }

    /**
     * The rate a pipe runs at, logged when it differs from the pipe's last one: a warning when programmed timings do
     * not give a rate, information otherwise (a derived rate, or no timing programmed at all).
     */
    private void logTiming(int pipe, PipeTiming t) {
        if (Objects.equals(lastLogged[pipe], t.source())) {
            return;
        }
        lastLogged[pipe] = t.source();
        char name = (char) ('A' + pipe);
        if (t.derived()) {
            log.info("{}: pipe {} runs at {} Hz: {}", mmio.owner(), name, String.format("%.3f", t.refreshHz()), t.source());
        } else if (t.htotal() < 2 || t.vtotal() < 2) {
            // No timing programmed at all (a driver that only drives planes, as the project's guest-sim does):
            // the fallback rate is the expected outcome, not a contradiction worth a warning.
            log.info("{}: pipe {} runs at 60 Hz: {}", mmio.owner(), name, t.source());
        } else {
            log.warn("{}: pipe {}: the refresh rate does not follow from the registers: {}", mmio.owner(), name, t.source());
        }
    }

    /** Keeps the frame count a pipe reached in its register and stops counting (the pipe is off). */
    private void stopCounting(int pipe) {
        if (timing[pipe] != null) {
            mmio.set(reg(PIPE_FRMCOUNT_A, pipe), counterAtEnable[pipe] + (int) frames(pipe, clock.nanoTime()));
            timing[pipe] = null;
        }
    }

    /** The timing {@code pipe} runs with, empty while it is off. */
    public Optional<PipeTiming> timing(int pipe) {
        return Optional.ofNullable(timing[pipe]);
    }

    /** One vblank of pipe A. Caller holds the lock. */
    public void vblank() {
        vblank(0);
    }

    /** One vblank of {@code pipe} (0 = A): pending flip-done, frame counter, vblank event. Caller holds the lock. */
    public void vblank(int pipe) {
        if ((mmio.get(reg(PIPEACONF, pipe)) & PIPECONF_ENABLE) == 0) {
            return;
        }
        vblanks[pipe]++;
        ticksSinceEnable[pipe]++;
        if (primaryFlipPending[pipe]) {
            primaryFlipPending[pipe] = false;
            irq.raise(FLIP_DONE[pipe]);
        }
        int counter = reg(PIPE_FRMCOUNT_A, pipe);
        mmio.set(counter, timing[pipe] != null ? counterAtEnable[pipe] + (int) frames(pipe, clock.nanoTime()) : mmio.get(counter) + 1);
        irq.raise(VBLANK[pipe]);
    }

    /** Whether any pipe's vblank timer is running. */
    public boolean vblankRunning() {
        for (VblankClock.Ticking t : ticking) {
            if (t != null) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code pipe}'s vblank timer is running. */
    public boolean vblankRunning(int pipe) {
        return ticking[pipe] != null;
    }

    /** Vblanks delivered on pipe A. */
    public long vblanks() {
        return vblanks[0];
    }

    /** Vblanks delivered on {@code pipe}. */
    public long vblanks(int pipe) {
        return vblanks[pipe];
    }

    /** Stops the timers and forgets pending flips (reset, destroy). */
    public void stop() {
        for (int p = 0; p < PIPES; p++) {
            if (ticking[p] != null) {
                ticking[p].cancel();
                ticking[p] = null;
            }
            stopCounting(p);
            primaryFlipPending[p] = false;
        }
    }

    /**
     * Decodes the plane from the registers. Empty when the plane is disabled or misprogrammed (unknown
     * format, zero stride, stride shorter than a line, surface outside the vGPU's graphics memory).
     */
    public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type, GmCheck gm, int hotX, int hotY) {
        return type == PlaneInfo.PlaneType.PRIMARY ? primary(gm) : cursor(gm, hotX, hotY);
    }

    /** The pipe whose planes are shown: the first enabled pipe (A, then B, then C); A when none is. */
    private int shownPipe() {
        for (int p = 0; p < PIPES; p++) {
            if ((mmio.get(reg(PIPEACONF, p)) & PIPECONF_ENABLE) != 0) {
                return p;
            }
        }
        return 0;
    }

    private Optional<PlaneInfo> primary(GmCheck gm) {
        int pipe = shownPipe();
        int ctl = mmio.get(reg(PLANE_CTL_1_A, pipe));
        if ((ctl & PLANE_CTL_ENABLE) == 0 || (mmio.get(reg(PIPEACONF, pipe)) & PIPECONF_ENABLE) == 0) {
            return Optional.empty();
        }
        boolean rgbx = (ctl & PLANE_CTL_ORDER_RGBX) != 0;
        int drm;
        int bpp;
        switch ((ctl >>> 24) & 0xF) {
            case FORMAT_XRGB8888 -> {
                drm = rgbx ? DRM_XBGR8888 : DRM_XRGB8888;
                bpp = 4;
            }
            case FORMAT_RGB2101010 -> {
                drm = rgbx ? DRM_XBGR2101010 : DRM_XRGB2101010;
                bpp = 4;
            }
            case FORMAT_RGB565 -> {
                drm = DRM_RGB565;
                bpp = 2;
            }
            default -> {
                return Optional.empty();
            }
        }
        int strideUnit;
        int tileHeight;
        switch ((ctl >>> 10) & 0x7) {
            case TILING_LINEAR -> {
                strideUnit = 64;
                tileHeight = 1;
            }
            case TILING_X -> {
                strideUnit = 512;
                tileHeight = 8;
            }
            case TILING_Y, TILING_YF -> {
                strideUnit = 128;
                tileHeight = 32;
            }
            default -> {
                return Optional.empty();
            }
        }
        int size = mmio.get(reg(PLANE_SIZE_1_A, pipe));
        int width = (size & 0x1FFF) + 1;
        int height = ((size >>> 16) & 0xFFF) + 1;
        long stride = (long) (mmio.get(reg(PLANE_STRIDE_1_A, pipe)) & 0x3FF) * strideUnit;
        if (stride == 0 || stride < (long) width * bpp) {
            return Optional.empty();
        }
        long surface = mmio.get(reg(PLANE_SURF_1_A, pipe)) & 0xFFFFF000L;
        long rows = (height + tileHeight - 1) / tileHeight * (long) tileHeight;
        long bytes = (stride * rows + 0xFFF) & ~0xFFFL;
        if (!gm.owns(surface, bytes)) {
            return Optional.empty();
        }
        int pos = mmio.get(reg(PLANE_POS_1_A, pipe));
        int offset = mmio.get(reg(PLANE_OFFSET_1_A, pipe));
        int x = (pos & 0x1FFF) + (offset & 0x1FFF);
        int y = ((pos >>> 16) & 0xFFF) + ((offset >>> 16) & 0xFFF);
        return Optional.of(new PlaneInfo(PlaneInfo.PlaneType.PRIMARY, drm, width, height, (int) stride, surface, x, y));
    }

    private Optional<PlaneInfo> cursor(GmCheck gm, int hotX, int hotY) {
        int pipe = shownPipe();
        int ctl = mmio.get(reg(CUR_CTL_A, pipe));
        int edge = switch (ctl & 0x3F) {
            case CURSOR_64_ARGB -> 64;
            case CURSOR_128_ARGB -> 128;
            case CURSOR_256_ARGB -> 256;
            default -> 0;
        };
        if (edge == 0 || (mmio.get(reg(PIPEACONF, pipe)) & PIPECONF_ENABLE) == 0) {
            return Optional.empty();
        }
        long base = mmio.get(reg(CUR_BASE_A, pipe)) & 0xFFFFF000L;
        long bytes = (long) edge * edge * 4;
        if (!gm.owns(base, bytes)) {
            return Optional.empty();
        }
        int pos = mmio.get(reg(CUR_POS_A, pipe));
        int x = pos & 0xFFF;
        if ((pos & (1 << 15)) != 0) {
            x = -x;
        }
        int y = (pos >>> 16) & 0xFFF;
        if ((pos & (1 << 31)) != 0) {
            y = -y;
        }
        x += Math.max(hotX, 0);
        y += Math.max(hotY, 0);
        return Optional.of(new PlaneInfo(PlaneInfo.PlaneType.CURSOR, DRM_ARGB8888, edge, edge, edge * 4, base, x, y));
    }

    private static int fourcc(char a, char b, char c, char d) {
        return a | b << 8 | c << 16 | d << 24;
    }
}
