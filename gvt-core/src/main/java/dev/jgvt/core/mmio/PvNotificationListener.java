package dev.jgvt.core.mmio;

/**
 * Guest-to-host notifications written to PVINFO {@code g2v_notify} (0x78818), and the other guest → host
 * PVINFO fields, routed to the subsystems that own them (GTT for PPGTT roots, execlists for contexts,
 * display for display-ready). Called under the vGPU's lock; must not throw for any guest value.
 */
public interface PvNotificationListener {
    /**
     * The guest created ({@code created}) or destroyed a PPGTT with {@code levels} (3 or 4) levels.
     *
     * @param pdps the four root pointers from PVINFO {@code pdp[0..3]} (for 4-level tables only
     *     {@code pdps[0]} is the PML4); a fresh array the listener may keep
     */
    default void ppgtt(boolean created, int levels, long[] pdps) {}

    /** The guest created or destroyed an execlist context with this descriptor. */
    default void execlistContext(boolean created, long descriptor) {}

    /** The guest wrote {@code display_ready}. */
    default void displayReady(int value) {}

    /** The guest reported that it could not balloon (wrote {@code rsv5}): the vGPU goes to failsafe. */
    default void ballooningFailed(int value) {}

    /** The guest wrote a g2v notification code this device does not know. */
    default void unknownNotification(int code) {}

    /** The no-op listener. */
    PvNotificationListener NONE = new PvNotificationListener() {};
}
