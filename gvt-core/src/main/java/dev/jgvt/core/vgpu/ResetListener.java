package dev.jgvt.core.vgpu;

/**
 * Told about resets so the subsystems outside the device model (GTT, execlists, scheduler) drop their
 * per-vGPU state. Called under the vGPU's lock, after the device model's own state was reset.
 */
public interface ResetListener {
    /** A device-model-level reset (VMM reset, FLR): everything back to power-on state. */
    default void deviceReset() {}

    /**
     * The guest requested a reset through GDRST with this domain mask (bit 0 full GT, 1 render, 2 media,
     * 3 blitter, 4 VECS).
     */
    default void engineReset(int domainMask) {}
}
