package dev.jgvt.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.sim.TestGuest;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.Hypervisor;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VMM may forward the guest's first accesses as soon as the plugin has the device: attach must not hand the
 * plugin a vGPU whose GGTT window, execution or tracking is not wired yet. Here the plugin's VMM writes a GGTT
 * entry from its own thread while the plugin is still attaching, as a fast VMM can; the entry must reach the
 * host GGTT, not be dropped by a half-wired window.
 */
final class AttachPublishesAWholeVgpuTest {
    private static final long RAM = 16L << 20;

    @Test
    void aGgttWriteThatRacesAttachReachesTheHostGgtt(@TempDir Path plugins) throws Exception {
        try (SimGpu gpu = new SimGpu(SimGpuConfig.GEN9); TestGuest guest = new TestGuest(RAM);
                Gvt gvt = Gvt.start(GvtConfig.of(plugins), gpu)) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            long index = vgpu.partition().aperture().base() >>> 12;
            long gpa = 0x40_0000L;
            AtomicReference<Thread> vmm = new AtomicReference<>();
            Hypervisor racing = new Hypervisor() {
                @Override
                public GuestBinding attach(AttachRequest request, DeviceModel device) {
                    Thread writer = Thread.ofPlatform().start(() -> device.write(DeviceLayout.BAR0,
                            MmioSpace.GGTT_WINDOW_OFFSET + index * 8, 8, gpa | GttEntry.PRESENT));
                    vmm.set(writer);
                    try {
                        // the VMM's write gets every chance to land while the plugin is attaching
                        writer.join(200);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return guest.binding();
                }

                @Override
                public void close() {}
            };

            gvt.attach(vgpu.id(), "racing", racing, new AttachRequest.InProcess("guest", RAM));
            vmm.get().join(TimeUnit.SECONDS.toMillis(10));

            assertThat(vmm.get().isAlive()).isFalse();
            assertThat(vgpu.read(DeviceLayout.BAR0, MmioSpace.GGTT_WINDOW_OFFSET + index * 8, 8))
                    .as("the guest's entry as the vGPU shows it").isEqualTo(gpa | GttEntry.PRESENT);
            long host = gpu.ggttRead((int) index);
            assertThat(GttEntry.present(host)).as("host entry 0x%x present", host).isTrue();
            assertThat(gpu.isDmaMapped(GttEntry.address(host))).as("host entry maps the pinned guest page").isTrue();
        }
    }

}
