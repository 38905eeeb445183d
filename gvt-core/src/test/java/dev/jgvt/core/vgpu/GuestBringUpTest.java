package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.PvInfo;
import dev.jgvt.core.pci.ConfigSpace;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.PlaneInfo;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The sequence a Gen9 guest driver goes through, seen only through {@link DeviceModel}: enumerate,
 * enable decoding and MSI, detect virtualisation through PVINFO, take forcewake, ask pcode, set up
 * interrupts, write GGTT entries inside its balloon, enable execlists, submit, take the context-switch
 * interrupt, and light up pipe A with a primary plane.
 */
final class GuestBringUpTest {
    @Test
    void gen9GuestBringsTheVgpuUpAndSubmits() {
        ManualClock clock = new ManualClock();
        VgpuManager manager = new VgpuManager(HostGeometry.defaults(), clock);
        Vgpu vgpu = manager.create("GVTg_V5_2");
        FakeBinding guest = new FakeBinding(1 << 20);
        List<String> submissions = new ArrayList<>();
        TestAttachment attachment = TestAttachment.attach(vgpu, guest);
        attachment.elsp = (engine, e0, e1) -> submissions.add(engine.name());
        vgpu.activate();
        DeviceModel dev = vgpu;

        // PCI enumeration: size BAR0, place it, enable memory decoding and MSI
        dev.write(DeviceLayout.CONFIG, ConfigSpace.BAR0, 4, 0xFFFFFFFFL);
        long bar0Mask = dev.read(DeviceLayout.CONFIG, ConfigSpace.BAR0, 4) & ~0xFL;
        assertThat(-(int) bar0Mask).isEqualTo(16 << 20);
        dev.write(DeviceLayout.CONFIG, ConfigSpace.BAR0, 8, 0xF000_0000L);
        dev.write(DeviceLayout.CONFIG, ConfigSpace.COMMAND, 2, ConfigSpace.COMMAND_MEMORY | ConfigSpace.COMMAND_MASTER);
        dev.write(DeviceLayout.CONFIG, ConfigSpace.MSI_ADDRESS, 4, 0xFEE0_0000L);
        dev.write(DeviceLayout.CONFIG, ConfigSpace.MSI_DATA, 2, 0x41);
        dev.write(DeviceLayout.CONFIG, ConfigSpace.MSI_CONTROL, 2, 1);
        assertThat(vgpu.bar0TrapBase()).contains(0xF000_0000L);

        // i915's intel_vgpu_detect: PVINFO magic and version, then the balloon
        assertThat(dev.read(DeviceLayout.BAR0, Gen9Registers.PVINFO_PAGE, 8)).isEqualTo(PvInfo.MAGIC);
        assertThat(dev.read(DeviceLayout.BAR0, Gen9Registers.PVINFO_PAGE + 8, 2)).isEqualTo(1);
        long apBase = dev.read(DeviceLayout.BAR0, Gen9Registers.PVINFO_PAGE + 0x40, 4);
        long apSize = dev.read(DeviceLayout.BAR0, Gen9Registers.PVINFO_PAGE + 0x44, 4);
        assertThat(apSize).isEqualTo(256L << 20);

        // forcewake and pcode
        dev.write(DeviceLayout.BAR0, Gen9Registers.FORCEWAKE_RENDER, 4, 0x0001_0001L);
        assertThat(dev.read(DeviceLayout.BAR0, Gen9Registers.FORCEWAKE_ACK_RENDER, 4) & 1).isEqualTo(1);
        dev.write(DeviceLayout.BAR0, Gen9Registers.PCODE_MAILBOX, 4, 0x8000_0006L);
        assertThat(dev.read(DeviceLayout.BAR0, Gen9Registers.PCODE_MAILBOX, 4) >>> 31).isZero();

        // interrupts: unmask RCS context switch and pipe A vblank, master on
        dev.write(DeviceLayout.BAR0, 0x44304, 4, ~(1L << 8) & 0xFFFFFFFFL);
        dev.write(DeviceLayout.BAR0, 0x4430C, 4, 1L << 8);
        dev.write(DeviceLayout.BAR0, 0x44404, 4, ~1L & 0xFFFFFFFFL);
        dev.write(DeviceLayout.BAR0, 0x4440C, 4, 1);
        dev.write(DeviceLayout.BAR0, 0x44200, 4, 1L << 31);

        // GGTT entries for a framebuffer at the start of its aperture slice
        for (int page = 0; page < 16; page++) {
            dev.write(DeviceLayout.BAR0, MmioSpace.GGTT_WINDOW_OFFSET + ((apBase >>> 12) + page) * 8, 8,
                    (0x10000L + page * 4096L) | 1);
        }
        dev.write(DeviceLayout.BAR2, apBase, 4, 0x00FF00FFL);
        assertThat(guest.ram.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0x10000)).isEqualTo(0x00FF00FF);

        // execlists on, one submission, completion raises a context switch -> MSI
        dev.write(DeviceLayout.BAR0, 0x229C, 4, 0x8000_8000L);
        assertThat(vgpu.failsafe()).isFalse();
        for (long dword : new long[] {0, 0, 0, 0x1000_0019L}) {
            dev.write(DeviceLayout.BAR0, 0x2230, 4, dword);
        }
        assertThat(submissions).containsExactly("RCS");
        vgpu.raise(IrqEvent.RCS_CONTEXT_SWITCH);
        assertThat(guest.msis.get()).isEqualTo(1);
        assertThat(dev.read(DeviceLayout.BAR0, 0x44200, 4)).isEqualTo(0x8000_0001L);
        dev.write(DeviceLayout.BAR0, 0x44308, 4, 1L << 8);

        // display: pipe A, 64x16 XRGB8888 linear plane on the framebuffer, a vblank
        dev.write(DeviceLayout.BAR0, Gen9Registers.PIPEASRC, 4, (63 << 16) | 15);
        dev.write(DeviceLayout.BAR0, Gen9Registers.PIPEACONF, 4, 1L << 31);
        dev.write(DeviceLayout.BAR0, Gen9Registers.PLANE_SIZE_1_A, 4, (15 << 16) | 63);
        dev.write(DeviceLayout.BAR0, Gen9Registers.PLANE_STRIDE_1_A, 4, 256 / 64);
        dev.write(DeviceLayout.BAR0, Gen9Registers.PLANE_CTL_1_A, 4, (1L << 31) | (4L << 24));
        dev.write(DeviceLayout.BAR0, Gen9Registers.PLANE_SURF_1_A, 4, apBase);
        clock.tick();
        assertThat(guest.msis.get()).isEqualTo(2);
        PlaneInfo plane = dev.queryPlane(PlaneInfo.PlaneType.PRIMARY).orElseThrow();
        assertThat(plane.graphicsAddress()).isEqualTo(apBase);
        assertThat(plane.width()).isEqualTo(64);
        assertThat(vgpu.unhandledAccesses()).isZero();
    }
}
