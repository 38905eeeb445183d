package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;

/**
 * A {@link VirtualEventSink} that records into primitive fields: a pending-event bitmap per engine (as GVT keeps
 * in the workload) and the last flip. {@link #clear()} makes it reusable; nothing is allocated while recording.
 */
public final class RecordedEvents implements VirtualEventSink {
    public static final int USER_INTERRUPT = 1;
    public static final int PIPE_CONTROL_NOTIFY = 1 << 1;
    public static final int FLUSH_DW_NOTIFY = 1 << 2;
    public static final int DISPLAY_FLIP = 1 << 3;
    public static final int FLIP_WAIT = 1 << 4;

    private final int[] pending = new int[Engine.values().length];
    private int flips;
    private int lastFlipPlane = -1;
    private long lastFlipSurface;
    private int lastFlipStride;
    private int lastFlipTiling;
    private boolean lastFlipAsync;

    @Override
    public void userInterrupt(Engine engine) {
        pending[engine.ordinal()] |= USER_INTERRUPT;
    }

    @Override
    public void pipeControlNotify(Engine engine) {
        pending[engine.ordinal()] |= PIPE_CONTROL_NOTIFY;
    }

    @Override
    public void flushDwNotify(Engine engine) {
        pending[engine.ordinal()] |= FLUSH_DW_NOTIFY;
    }

    @Override
    public void displayFlip(Engine engine, int plane, long surface, int stride, int tiling, boolean async) {
        pending[engine.ordinal()] |= DISPLAY_FLIP;
        flips++;
        lastFlipPlane = plane;
        lastFlipSurface = surface;
        lastFlipStride = stride;
        lastFlipTiling = tiling;
        lastFlipAsync = async;
    }

    @Override
    public void flipWait(Engine engine, int bits) {
        pending[engine.ordinal()] |= FLIP_WAIT;
    }

    /** The pending-event bits of {@code engine}. */
    public int pending(Engine engine) {
        return pending[engine.ordinal()];
    }

    public int flips() {
        return flips;
    }

    public int lastFlipPlane() {
        return lastFlipPlane;
    }

    public long lastFlipSurface() {
        return lastFlipSurface;
    }

    public int lastFlipStride() {
        return lastFlipStride;
    }

    public int lastFlipTiling() {
        return lastFlipTiling;
    }

    public boolean lastFlipAsync() {
        return lastFlipAsync;
    }

    public void clear() {
        java.util.Arrays.fill(pending, 0);
        flips = 0;
        lastFlipPlane = -1;
        lastFlipSurface = 0;
        lastFlipStride = 0;
        lastFlipTiling = 0;
        lastFlipAsync = false;
    }
}
