package dev.jgvt.plugin.fake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.testing.fixtures.RecordingDeviceModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plugin entry point: identity, capabilities, configuration, targets, PF4J extension index. */
final class FakeHypervisorPluginTest {
    private final FakeHypervisorPlugin plugin = new FakeHypervisorPlugin();

    private static HostContext config(Map<String, String> configuration) {
        return new HostContext() {
            @Override
            public Map<String, String> configuration() {
                return configuration;
            }
        };
    }

    private static ErrorCode code(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(GvtException.class);
        return ((GvtException) thrown).code();
    }

    @Test
    void identityAndCapabilities() {
        assertThat(plugin.id()).isEqualTo("fake");
        assertThat(plugin.capabilities())
                .containsExactlyInAnyOrder(Capability.PAGE_TRACKING, Capability.GUEST_PAGE_DMA, Capability.HUGE_PAGE_PIN_2M);
        assertThat(plugin.availability().available()).isTrue();
    }

    @Test
    void otherTargetKindsAreRejectedByName() {
        try (FakeHypervisor hypervisor = plugin.open(new HostContext() {})) {
            RecordingDeviceModel device = new RecordingDeviceModel();
            for (AttachRequest.Target target : new AttachRequest.Target[] {
                    new AttachRequest.UnixSocket(Path.of("/tmp/x.sock")), new AttachRequest.XenDomain(3),
                    new AttachRequest.Custom("acme-vm", Map.of())}) {
                Throwable thrown = catchThrowable(() -> hypervisor.attach(new AttachRequest("v", target), device));
                assertThat(thrown).isInstanceOf(GvtException.class);
                assertThat(((GvtException) thrown).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
                assertThat(thrown.getMessage()).containsAnyOf("unix-socket", "xen-domain", "custom 'acme-vm'");
            }
            assertThat(code(() -> hypervisor.attach(null, device))).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        }
    }

    @Test
    void configurationLimitsRamAndDelaysMsi() throws Exception {
        try (FakeHypervisor hypervisor = plugin.open(config(Map.of("max-ram-bytes", "1M", "msi-delay-micros", "1000")))) {
            RecordingDeviceModel device = new RecordingDeviceModel();
            assertThat(code(() -> hypervisor.attach(new AttachRequest("big", new AttachRequest.InProcess("big", 2L << 20)), device)))
                    .isEqualTo(ErrorCode.LIMIT_EXCEEDED);
            FakeGuest guest = FakeGuest.of(hypervisor.attach(new AttachRequest("ok", new AttachRequest.InProcess("ok", 1L << 20)), device));
            guest.interrupts().signalMsi();
            assertThat(guest.msiSignalled()).isEqualTo(1);
            assertThat(guest.guestSide().awaitMsi(0, Duration.ofSeconds(30))).isEqualTo(1);
        }
    }

    @Test
    void badConfigurationIsRejectedAtOpen() {
        assertThat(code(() -> plugin.open(config(Map.of("max-ram", "1"))))).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(code(() -> plugin.open(config(Map.of("max-ram-bytes", "lots"))))).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(code(() -> plugin.open(config(Map.of("max-ram-bytes", "0"))))).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(code(() -> plugin.open(config(Map.of("msi-delay-micros", "-5"))))).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(code(() -> plugin.open(config(Map.of("max-ram-bytes", "99999999999G"))))).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(code(() -> plugin.open(config(Map.of("max-ram-bytes", "9000G"))))).as("above the frame-set limit")
                .isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(FakeConfig.from(Map.of("max-ram-bytes", "64k")).maxRamBytes()).isEqualTo(64 * 1024);
        assertThat(FakeConfig.from(Map.of()).maxRamBytes()).isEqualTo(FakeConfig.DEFAULT_MAX_RAM_BYTES);
    }

    @Test
    void extensionIndexNamesThePlugin() throws IOException {
        // test compilation writes an empty index of its own; the plugin's is the one next to its classes
        java.net.URL classes = FakeHypervisorPlugin.class.getProtectionDomain().getCodeSource().getLocation();
        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[] {classes}, null);
                InputStream index = loader.getResourceAsStream("META-INF/extensions.idx")) {
            assertThat(index).as("PF4J's extension index is generated").isNotNull();
            assertThat(new String(index.readAllBytes(), StandardCharsets.UTF_8)).contains(FakeHypervisorPlugin.class.getName());
        }
    }
}
