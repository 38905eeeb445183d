package dev.jgvt.plugin.xen.lib;

import dev.jgvt.spi.InProcessGuest;
import java.util.Optional;

/**
 * The three Xen libraries behind one object: the native FFM binding on a real dom0, or the emulated
 * in-process Xen. The plugin logic is written against this only.
 */
public interface XenBackend extends AutoCloseable {
    /** One line for logs and {@code gvt plugins}: which backend and what it talks to. */
    String description();

    XenDeviceModelOps deviceModel();

    XenForeignMemory foreignMemory();

    /** Opens a new event-channel handle, owned by the caller's thread. */
    XenEventChannels openEventChannels();

    /**
     * For emulated backends, the in-process guest of domain {@code domid} whose device sits at PCI
     * {@code sbdf}; empty for real Xen (a real guest drives its device itself).
     */
    default Optional<InProcessGuest> inProcessGuest(int domid, int sbdf) {
        return Optional.empty();
    }

    @Override
    void close();
}
