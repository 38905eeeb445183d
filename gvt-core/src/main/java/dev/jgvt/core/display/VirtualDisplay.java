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
import java.util.Optional;

/**
 * Pipe A of the virtual display: PIPECONF enable with its state bit following, a primary plane (plane 1)
 * and a cursor, the periodic virtual vblank (running while the pipe is enabled), flips (a surface write takes
 * effect at once, its flip-done event is delivered at the next vblank), and plane decoding for
 * {@code queryPlane}. State lives in the register file; callers hold the vGPU's lock (the vblank tick
 * takes it through the {@code locked} runner given at construction).
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
    /** 60 Hz. */
    public static final long VBLANK_PERIOD_NANOS = 1_000_000_000L / 60;

    /** Whether a graphics-memory range belongs to the vGPU (the plane query refuses surfaces outside). */
    @FunctionalInterface
    public interface GmCheck {
        boolean owns(long address, long length);
    }

    private final MmioSpace mmio;
    private final VirtualInterrupts irq;
    private final VblankClock clock;
    private final Runnable lockedTick;
    private VblankClock.Ticking ticking;
    private boolean primaryFlipPending;
    private long vblanks;

    /**
     * @param locked runs a task under the vGPU's lock (the vblank tick comes from the clock's thread)
     */
    public VirtualDisplay(MmioSpace mmio, VirtualInterrupts irq, VblankClock clock, java.util.function.Consumer<Runnable> locked) {
        this.mmio = requireNonNull(mmio, "mmio is null");
        this.irq = requireNonNull(irq, "irq is null");
        this.clock = requireNonNull(clock, "clock is null");
        requireNonNull(locked, "locked is null");
        Runnable tick = this::vblank;
        this.lockedTick = () -> locked.accept(tick);
    }

    /** The handler for PIPECONF. */
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
                if (offset == PIPEACONF) {
                    updateTimer();
                }
            }
        };
    }

    /** The handler for PLANE_SURF and CUR_BASE: a flip. */
    public RegisterHandler surfaceHandler() {
        return new RegisterHandler() {
            @Override
            public int read(int offset) {
                return mmio.get(offset);
            }

            @Override
            public void write(int offset, int value) {
                mmio.set(offset, value);
                if (offset == PLANE_SURF_1_A) {
                    mmio.set(PLANE_SURFLIVE_1_A, value);
                    mmio.set(PIPE_FLIPCOUNT_A, mmio.get(PIPE_FLIPCOUNT_A) + 1);
                    if ((mmio.get(PLANE_CTL_1_A) & PLANE_CTL_ASYNC_FLIP) != 0) {
                        irq.raise(IrqEvent.PIPE_A_PRIMARY_FLIP_DONE);
                    } else {
                        primaryFlipPending = true;
                    }
                } else if (offset == CUR_BASE_A) {
                    mmio.set(CUR_SURFLIVE_A, value);
                }
            }
        };
    }

    private void updateTimer() {
        boolean enabled = (mmio.get(PIPEACONF) & PIPECONF_ENABLE) != 0;
        if (enabled && ticking == null) {
            ticking = clock.start(lockedTick, VBLANK_PERIOD_NANOS);
        } else if (!enabled && ticking != null) {
            ticking.cancel();
            ticking = null;
        }
    }

    /** One vblank of pipe A: pending flip-done, frame counter, vblank event. Caller holds the lock. */
    public void vblank() {
        if ((mmio.get(PIPEACONF) & PIPECONF_ENABLE) == 0) {
            return;
        }
        vblanks++;
        if (primaryFlipPending) {
            primaryFlipPending = false;
            irq.raise(IrqEvent.PIPE_A_PRIMARY_FLIP_DONE);
        }
        mmio.set(PIPE_FRMCOUNT_A, mmio.get(PIPE_FRMCOUNT_A) + 1);
        irq.raise(IrqEvent.PIPE_A_VBLANK);
    }

    /** Whether the vblank timer is running. */
    public boolean vblankRunning() {
        return ticking != null;
    }

    public long vblanks() {
        return vblanks;
    }

    /** Stops the timer and forgets pending flips (reset, destroy). */
    public void stop() {
        if (ticking != null) {
            ticking.cancel();
            ticking = null;
        }
        primaryFlipPending = false;
    }

    /**
     * Decodes the plane from the registers. Empty when the plane is disabled or misprogrammed (unknown
     * format, zero stride, stride shorter than a line, surface outside the vGPU's graphics memory).
     */
    public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type, GmCheck gm, int hotX, int hotY) {
        return type == PlaneInfo.PlaneType.PRIMARY ? primary(gm) : cursor(gm, hotX, hotY);
    }

    private Optional<PlaneInfo> primary(GmCheck gm) {
        int ctl = mmio.get(PLANE_CTL_1_A);
        if ((ctl & PLANE_CTL_ENABLE) == 0 || (mmio.get(PIPEACONF) & PIPECONF_ENABLE) == 0) {
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
        int size = mmio.get(PLANE_SIZE_1_A);
        int width = (size & 0x1FFF) + 1;
        int height = ((size >>> 16) & 0xFFF) + 1;
        long stride = (long) (mmio.get(PLANE_STRIDE_1_A) & 0x3FF) * strideUnit;
        if (stride == 0 || stride < (long) width * bpp) {
            return Optional.empty();
        }
        long surface = mmio.get(PLANE_SURF_1_A) & 0xFFFFF000L;
        long rows = (height + tileHeight - 1) / tileHeight * (long) tileHeight;
        long bytes = (stride * rows + 0xFFF) & ~0xFFFL;
        if (!gm.owns(surface, bytes)) {
            return Optional.empty();
        }
        int pos = mmio.get(PLANE_POS_1_A);
        int offset = mmio.get(PLANE_OFFSET_1_A);
        int x = (pos & 0x1FFF) + (offset & 0x1FFF);
        int y = ((pos >>> 16) & 0xFFF) + ((offset >>> 16) & 0xFFF);
        return Optional.of(new PlaneInfo(PlaneInfo.PlaneType.PRIMARY, drm, width, height, (int) stride, surface, x, y));
    }

    private Optional<PlaneInfo> cursor(GmCheck gm, int hotX, int hotY) {
        int ctl = mmio.get(CUR_CTL_A);
        int edge = switch (ctl & 0x3F) {
            case CURSOR_64_ARGB -> 64;
            case CURSOR_128_ARGB -> 128;
            case CURSOR_256_ARGB -> 256;
            default -> 0;
        };
        if (edge == 0 || (mmio.get(PIPEACONF) & PIPECONF_ENABLE) == 0) {
            return Optional.empty();
        }
        long base = mmio.get(CUR_BASE_A) & 0xFFFFF000L;
        long bytes = (long) edge * edge * 4;
        if (!gm.owns(base, bytes)) {
            return Optional.empty();
        }
        int pos = mmio.get(CUR_POS_A);
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
