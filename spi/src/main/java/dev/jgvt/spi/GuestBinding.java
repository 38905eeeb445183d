package dev.jgvt.spi;

import java.util.Optional;

/**
 * One vGPU attached to one guest: the services the core uses for that guest. Obtained from
 * {@link Hypervisor#attach}; closing it detaches (the plugin stops forwarding accesses, drops its
 * tracking and releases every pin still held). {@link #close()} is idempotent and never throws.
 *
 * <p>After close, every service method throws {@link GvtException} with {@link ErrorCode#ILLEGAL_STATE}.
 */
public interface GuestBinding extends AutoCloseable {
    /** Read/write access to guest RAM by guest physical address. */
    GuestMemory memory();

    /** Pinning of guest frames for device access. */
    GuestPages pages();

    /**
     * Write tracking of guest frames, or empty when this binding cannot trap guest writes (the plugin
     * lacks {@link Capability#PAGE_TRACKING}, or this particular VMM did not negotiate it).
     */
    Optional<PageTracker> tracker();

    /** Interrupt delivery to the guest. */
    InterruptSink interrupts();

    /**
     * For guests that live in the engine's process, their guest side (used by the guest driver simulator
     * and by tests); empty for real guests. The default is empty.
     */
    default java.util.Optional<InProcessGuest> inProcessGuest() {
        return java.util.Optional.empty();
    }

    /**
     * Stops serving the guest ahead of {@link #close()}: when this returns, no guest access reaches the
     * device any more (a plugin serving a VMM over a socket closes the connection first, so the VMM sees the
     * device gone rather than a device being torn down under it). The services stay valid until close.
     * Idempotent, never throws. The default does nothing (close alone ends the guest's accesses).
     *
     * @since SPI 1.1.0
     */
    default void disconnect() {}

    /**
     * Whether a guest is using the binding now. A plugin that serves VMMs over a socket answers whether a VMM
     * is connected (a per-GPU service refuses to stop a vGPU a VMM still uses); for a guest that exists as long
     * as the binding does, the answer is always true, which is the default. Never throws.
     *
     * @since SPI 1.2.0
     */
    default boolean connected() {
        return true;
    }

    @Override
    void close();
}
