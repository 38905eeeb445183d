package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.engine.PlaneCapture;
import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.guest.FrameAllocator;
import dev.jgvt.guest.GmAllocator;
import dev.jgvt.guest.GuestDisplay;
import dev.jgvt.guest.GuestInterrupts;
import dev.jgvt.guest.GuestPlatform;
import dev.jgvt.guest.PciDevice;
import dev.jgvt.guest.Picture;
import dev.jgvt.guest.PvInfo;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A guest driver brings up vGPUs through the fake plugin loaded from the distribution's plugins/: the SPI
 * across PF4J class loaders, the device model behind it, and guest-sim on the guest side, end to end.
 */
final class GuestBringUpIT {
    private static final long RAM = 64L << 20;

    private final SimGpu gpu = new SimGpu(SimGpuConfig.GEN9);

    @AfterEach
    void closeGpu() {
        gpu.close();
    }

    private Gvt engine() {
        return Gvt.start(GvtConfig.of(Distribution.home().resolve("plugins")), gpu);
    }

    @Test
    void whatTheGuestDrawsIsWhatTheHostScansOutThroughItsShadowGgtt() {
        try (Gvt gvt = engine()) {
            Vgpu first = gvt.vgpus().create("GVTg_V5_8");
            Vgpu second = gvt.vgpus().create("GVTg_V5_8");
            for (Vgpu vgpu : new Vgpu[] {first, second}) {
                GuestPlatform guest = platform(gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("d" + vgpu.id(), RAM)));
                PciDevice.enumerate(guest, 0xC000_0000L, 0xFEE0_0000, 0x30);
                PvInfo info = PvInfo.read(guest);
                GuestDisplay display = new GuestDisplay(guest);
                GuestDisplay.Framebuffer fb = display.allocate(new GmAllocator(info.apertureBase(), info.apertureSize()),
                        new FrameAllocator(1 << 20, RAM), 160, 120);
                assertThat(display.readGgtt(fb.gma()) & ~0xFFFL).as("the guest reads back its own GGTT entry").isEqualTo(fb.gpa());
                display.draw(fb, vgpu.id(), 5);
                display.scanOut(fb);
            }
            for (Vgpu vgpu : new Vgpu[] {first, second}) {
                PlaneCapture capture = gvt.capturePrimaryPlane(vgpu.id()).orElseThrow();
                assertThat(capture.plane().width()).isEqualTo(160);
                assertThat(capture.plane().height()).isEqualTo(120);
                assertThat(capture.unmappedPages()).isZero();
                for (int y = 0; y < 120; y++) {
                    for (int x = 0; x < 160; x++) {
                        assertThat(capture.pixel(x, y)).as("vGPU %d pixel (%d,%d)", vgpu.id(), x, y)
                                .isEqualTo(Picture.pixel(vgpu.id(), 5, 160, 120, x, y));
                    }
                }
            }
        }
    }

    @Test
    void aGgttWriteOutsideThePartitionNeverReachesTheHostGgtt() {
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_8");
            GuestPlatform guest = platform(gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("x", RAM)));
            PciDevice.enumerate(guest, 0xC000_0000L, 0xFEE0_0000, 0x30);
            GuestDisplay display = new GuestDisplay(guest);
            long hostPage = 0; // the host's own low GM
            long before = gpu.ggttRead((int) hostPage);
            display.writeGgtt(hostPage << 12, 0x20_0000L);
            assertThat(gpu.ggttRead((int) hostPage)).isEqualTo(before);
            assertThat(display.readGgtt(hostPage << 12)).isZero();
        }
    }

    @Test
    void guestsEnumerateTheirVgpuAndSeeOnlyTheirOwnPartition() {
        try (Gvt gvt = engine()) {
            Vgpu first = gvt.vgpus().create("GVTg_V5_4");
            Vgpu second = gvt.vgpus().create("GVTg_V5_4");
            GuestPlatform one = platform(gvt.attach(first.id(), "fake", new AttachRequest.InProcess("one", RAM)));
            GuestPlatform two = platform(gvt.attach(second.id(), "fake", new AttachRequest.InProcess("two", RAM)));

            PciDevice device = PciDevice.enumerate(one, 0xC000_0000L, 0xFEE0_0000, 0x30);
            assertThat(device.vendorId()).isEqualTo(0x8086);
            assertThat(device.deviceId()).isEqualTo(0x1912);
            assertThat(device.bar0Size()).isEqualTo(16L << 20);
            assertThat(device.bar2Size()).isEqualTo(gvt.vgpus().geometry().apertureSize());
            PciDevice.enumerate(two, 0xC000_0000L, 0xFEE0_0000, 0x31);

            PvInfo info = PvInfo.read(one);
            assertThat(info.apertureBase()).isEqualTo(first.partition().aperture().base());
            assertThat(info.apertureSize()).isEqualTo(first.partition().aperture().size());
            assertThat(info.hiddenBase()).isEqualTo(first.partition().hidden().base());
            assertThat(info.hiddenSize()).isEqualTo(first.partition().hidden().size());
            assertThat(info.fences()).isEqualTo(first.partition().fenceCount());
            PvInfo other = PvInfo.read(two);
            assertThat(other.vgpuId()).isNotEqualTo(info.vgpuId());
            boolean disjoint = other.apertureBase() + other.apertureSize() <= info.apertureBase()
                    || info.apertureBase() + info.apertureSize() <= other.apertureBase();
            assertThat(disjoint).as("the two guests' aperture slices overlap").isTrue();
        }
    }

    @Test
    void anEnabledEventReachesTheGuestAsAnMsiAndAMaskedOneDoesNot() throws InterruptedException {
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_8");
            Vgpu bystander = gvt.vgpus().create("GVTg_V5_8");
            GuestPlatform guest = platform(gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("g", RAM)));
            GuestPlatform quiet = platform(gvt.attach(bystander.id(), "fake", new AttachRequest.InProcess("q", RAM)));
            PciDevice.enumerate(guest, 0xC000_0000L, 0xFEE0_0000, 0x30);
            PciDevice.enumerate(quiet, 0xC000_0000L, 0xFEE0_0000, 0x31);
            GuestInterrupts interrupts = new GuestInterrupts(guest);
            interrupts.enableGt0(GuestInterrupts.RCS_USER);
            new GuestInterrupts(quiet).enableGt0(GuestInterrupts.RCS_USER);

            long seen = guest.msiCount();
            vgpu.raise(IrqEvent.RCS_USER_INTERRUPT);
            assertThat(guest.awaitMsi(seen, Duration.ofSeconds(10))).isGreaterThan(seen);
            assertThat(interrupts.handle()).isEqualTo(new GuestInterrupts.Pending(GuestInterrupts.RCS_USER, 0, 0, 0));

            seen = guest.msiCount();
            vgpu.raise(IrqEvent.BCS_USER_INTERRUPT); // not enabled by the guest: no MSI
            assertThat(guest.awaitMsi(seen, Duration.ofMillis(200))).isEqualTo(seen);
            assertThat(quiet.msiCount()).as("another vGPU's events never reach this guest").isZero();
        }
    }

    @Test
    void attachFailuresAreTypedAndLeaveNothingAttached() {
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_8");
            assertThatThrownBy(() -> gvt.attach(vgpu.id(), "nope", new AttachRequest.InProcess("g", RAM)))
                    .isInstanceOf(GvtException.class)
                    .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
            // kvm-vfio serves vGPUs on a socket: an in-process guest is not a target it understands
            assertThatThrownBy(() -> gvt.attach(vgpu.id(), "kvm-vfio", new AttachRequest.InProcess("g", RAM)))
                    .isInstanceOf(GvtException.class)
                    .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            assertThatThrownBy(() -> gvt.attach(vgpu.id(), "fake", new AttachRequest.XenDomain(3)))
                    .isInstanceOf(GvtException.class)
                    .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            assertThat(gvt.attachment(vgpu.id())).isEmpty();

            AttachedVgpu attached = gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("g", RAM));
            assertThatThrownBy(() -> gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("h", RAM)))
                    .isInstanceOf(GvtException.class)
                    .hasMessageContaining("attached through plugin 'fake' already");
            gvt.detach(vgpu.id());
            assertThatThrownBy(() -> attached.binding().memory().isBacked(0))
                    .isInstanceOf(GvtException.class)
                    .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(ErrorCode.ILLEGAL_STATE));
            gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("again", RAM));
        }
    }

    private static GuestPlatform platform(AttachedVgpu attached) {
        return new InProcessPlatform(attached.inProcessGuest().orElseThrow());
    }
}
