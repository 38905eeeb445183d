package dev.jgvt.testing.conformance;

import dev.jgvt.spi.Capability;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.HypervisorPlugin;

/**
 * What a plugin's test suite gives the conformance kit: the plugin, a host context to open it with, fresh
 * guests, and a declaration of what it cannot do. One harness is created per check and closed after it.
 */
public interface ConformanceHarness extends AutoCloseable {
    /** The plugin under test (a fresh instance or a shared one; the kit opens and closes it per check). */
    HypervisorPlugin plugin();

    /** The context the kit opens the plugin with. Default: an empty configuration, no work directory. */
    default HostContext hostContext() {
        return new HostContext() {};
    }

    /**
     * Creates a guest with {@code ramBytes} of RAM (a positive multiple of 4096, at most 16 MiB in the kit)
     * that can be attached through {@link TestGuest#target()}. Each call gives a distinct guest.
     *
     * @param guestName a name unique within the check
     */
    TestGuest createGuest(String guestName, long ramBytes);

    /**
     * Whether this plugin and harness support {@code behavior}. The default derives
     * {@link Behavior#PAGE_TRACKING} and {@link Behavior#CONTIGUOUS_2M_PINS} from the plugin's capabilities
     * and says no to everything the harness must implement; override with an exhaustive switch.
     */
    default boolean supports(Behavior behavior) {
        return switch (behavior) {
            case PAGE_TRACKING -> plugin().capabilities().contains(Capability.PAGE_TRACKING);
            case CONTIGUOUS_2M_PINS -> plugin().capabilities().contains(Capability.HUGE_PAGE_PIN_2M);
            case GUEST_WRITES, REMOVE_RAM, REVOKED_PIN_SEGMENTS, STALL_INTERRUPTS, READ_ONLY_RAM -> false;
        };
    }

    /** Releases what the harness created. Must not throw. Default: nothing. */
    @Override
    default void close() {}
}
