package dev.jgvt.plugin.kvm;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.HypervisorPlugin;
import dev.jgvt.testing.conformance.BasePluginConformanceTest;
import dev.jgvt.testing.conformance.ConformanceHarness;
import dev.jgvt.testing.conformance.TestGuest;
import java.nio.file.Path;
import org.junit.jupiter.api.Disabled;

/**
 * The kvm-vfio plugin against the conformance kit. Disabled until the plugin can attach a guest: its
 * software IOMMU (the GuestMemory/GuestPages it will hand out) is tested on its own in
 * {@code dev.jgvt.plugin.kvm.iommu}, but {@code open()} refuses with UNSUPPORTED while the vfio-user server
 * is not built. When it is, the harness attaches a guest served over a socket pair by an in-test VMM
 * (memfd RAM mapped with DMA_MAP) and enables the behaviours that VMM offers.
 */
@Disabled(KvmVfioPlugin.NOT_BUILT)
final class KvmVfioPluginConformanceTest extends BasePluginConformanceTest {
    @Override
    protected ConformanceHarness createHarness() {
        return new ConformanceHarness() {
            private final KvmVfioPlugin plugin = new KvmVfioPlugin();

            @Override
            public HypervisorPlugin plugin() {
                return plugin;
            }

            @Override
            public TestGuest createGuest(String guestName, long ramBytes) {
                return () -> new AttachRequest.UnixSocket(Path.of(System.getProperty("java.io.tmpdir"), guestName + ".sock"));
            }
        };
    }
}
