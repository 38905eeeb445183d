package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;

/**
 * Receives the virtual events the scanner takes out of a workload (gvt-g.md §3.9): they are injected into the
 * guest when the workload completes, because the patched-out commands would otherwise raise them on the host.
 * Implementations record without allocating.
 */
public interface VirtualEventSink {
    /** An MI_USER_INTERRUPT on {@code engine} (patched to MI_NOOP). */
    void userInterrupt(Engine engine);

    /** A PIPE_CONTROL with the notify bit (RCS). */
    void pipeControlNotify(Engine engine);

    /** An MI_FLUSH_DW with the notify bit. */
    void flushDwNotify(Engine engine);

    /**
     * An MI_DISPLAY_FLIP, emulated against the virtual display (patched to MI_NOOPs).
     *
     * @param plane the plane select field (SKL+: DW0 bits 12:8)
     * @param surface the new surface address (DW2 bits 31:12)
     * @param stride DW1 bits 15:6 (in 64-byte units)
     * @param tiling DW1 bits 2:0
     * @param async whether it is an asynchronous flip (DW2 bits 1:0 == 1)
     */
    void displayFlip(Engine engine, int plane, long surface, int stride, int tiling, boolean async);

    /** An MI_WAIT_FOR_EVENT on a display flip-pending bit, patched to MI_NOOP; {@code bits} = the wait mask. */
    void flipWait(Engine engine, int bits);
}
