package dev.jgvt.plugin.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.jgvt.plugin.xen.ffm.NativeXenBackend;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the plugin says about itself, per configured backend. */
final class XenPluginTest {
    private static HostContext context(Map<String, String> configuration) {
        return new HostContext() {
            @Override
            public Map<String, String> configuration() {
                return configuration;
            }
        };
    }

    private static boolean offXen() {
        return "Xen not available (not a dom0)".equals(NativeXenBackend.probe());
    }

    @Test
    void declaresPageTrackingButNotGuestPageDma() {
        XenPlugin plugin = new XenPlugin();
        assertThat(plugin.id()).isEqualTo("xen");
        assertThat(plugin.capabilities()).containsExactly(Capability.PAGE_TRACKING);
        assertThat(plugin.capabilities()).doesNotContain(Capability.GUEST_PAGE_DMA);
    }

    @Test
    void nativeBackendOffXenIsUnavailableInOneLineAndOpenSaysWhy() {
        assumeThat(offXen()).as("off Xen with the Xen libraries installed").isTrue();
        XenPlugin plugin = new XenPlugin();
        assertThat(plugin.availability()).isEqualTo(HypervisorPlugin.Availability.unavailable("Xen not available (not a dom0)"));
        assertThatThrownBy(() -> plugin.open(context(Map.of()))).isInstanceOf(GvtException.class)
                .hasMessage("Xen not available (not a dom0)")
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED);
    }

    @Test
    void emulatedBackendIsAvailableAndSaysItIsEmulated() {
        XenPlugin plugin = new XenPlugin(context(Map.of("backend", "emulated")));
        HypervisorPlugin.Availability availability = plugin.availability();
        assertThat(availability.available()).isTrue();
        assertThat(availability.reason()).startsWith("emulated in-process Xen").doesNotContain("\n");
        try (Hypervisor hypervisor = plugin.open(context(Map.of("backend", "emulated", "emulated.ramBytes", "0x400000")))) {
            GuestBinding binding = hypervisor.attach(new AttachRequest("v", new AttachRequest.XenDomain(12)), new TestVgpu());
            assertThat(binding.memory().isBacked(0x3FF)).isTrue();
            assertThat(binding.memory().isBacked(0x400)).isFalse();
            assertThat(binding.inProcessGuest()).isPresent();
            assertThat(binding.inProcessGuest().orElseThrow().configRead(0, 2)).isEqualTo(0x8086L);
        }
    }

    @Test
    void autoFallsBackToTheEmulationOffXen() {
        assumeThat(offXen()).as("off Xen with the Xen libraries installed").isTrue();
        XenPlugin plugin = new XenPlugin(context(Map.of("backend", "auto")));
        assertThat(plugin.availability().available()).isTrue();
        assertThat(plugin.availability().reason()).isEqualTo("emulated in-process Xen, because Xen not available (not a dom0)");
        try (Hypervisor hypervisor = plugin.open(context(Map.of("backend", "auto")))) {
            assertThat(((XenHypervisor) hypervisor).emulation()).isPresent();
        }
    }

    @Test
    void badConfigurationIsReported() {
        assertThat(new XenPlugin(context(Map.of("backend", "kvm"))).availability())
                .isEqualTo(HypervisorPlugin.Availability.unavailable("plugin.xen.backend must be native, emulated or auto: 'kvm'"));
        assertThatThrownBy(() -> new XenPlugin().open(context(Map.of("backend", "emulated", "mapcache.buckets", "-1"))))
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }
}
