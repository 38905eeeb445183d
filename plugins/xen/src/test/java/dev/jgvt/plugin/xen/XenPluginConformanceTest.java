package dev.jgvt.plugin.xen;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.HypervisorPlugin;
import dev.jgvt.testing.conformance.BasePluginConformanceTest;
import dev.jgvt.testing.conformance.Behavior;
import dev.jgvt.testing.conformance.ConformanceHarness;
import dev.jgvt.testing.conformance.TestGuest;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * The Xen plugin on its emulated backend passes the conformance kit. Guests are emulated HVM domains the
 * hypervisor creates for {@link AttachRequest.InProcess} targets; guest writes go through the emulated
 * vCPU (trapped by p2m type, forwarded as ioreqs, committed by the plugin). Not supported, and why:
 * {@link Behavior#REMOVE_RAM} (Xen tells a device model only that its map cache is stale, with
 * INVALIDATE after the fact; it never names a range before it goes, and the plugin's foreign mappings keep
 * the old frames alive instead), {@link Behavior#CONTIGUOUS_2M_PINS} (no machine-contiguity guarantee in
 * user space), {@link Behavior#STALL_INTERRUPTS} (inject_msi never waits for the guest, so there is no
 * consumer to stall), {@link Behavior#READ_ONLY_RAM} (the emulated domains have no read-only RAM type the
 * harness could set).
 */
final class XenPluginConformanceTest extends BasePluginConformanceTest {
    private static final Map<String, String> CONFIG = Map.of("backend", "emulated");

    @Override
    protected ConformanceHarness createHarness() {
        return new XenHarness();
    }

    static final class XenHarness implements ConformanceHarness {
        private final XenPlugin plugin = new XenPlugin(CONFIG);

        @Override
        public HypervisorPlugin plugin() {
            return plugin;
        }

        @Override
        public HostContext hostContext() {
            return new HostContext() {
                @Override
                public Map<String, String> configuration() {
                    return CONFIG;
                }
            };
        }

        @Override
        public TestGuest createGuest(String guestName, long ramBytes) {
            return new XenTestGuest(guestName, ramBytes);
        }

        @Override
        public boolean supports(Behavior behavior) {
            return switch (behavior) {
                case PAGE_TRACKING, GUEST_WRITES, REVOKED_PIN_SEGMENTS -> true;
                case REMOVE_RAM, CONTIGUOUS_2M_PINS, STALL_INTERRUPTS, READ_ONLY_RAM -> false;
            };
        }
    }

    record XenTestGuest(String name, long ramBytes) implements TestGuest {
        @Override
        public AttachRequest.Target target() {
            return new AttachRequest.InProcess(name, ramBytes);
        }

        @Override
        public void guestWrite(GuestBinding binding, long gpa, MemorySegment bytes) {
            binding.inProcessGuest().orElseThrow().ramWrite(gpa, bytes);
        }
    }
}
