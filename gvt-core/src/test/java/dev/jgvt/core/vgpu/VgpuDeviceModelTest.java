package dev.jgvt.core.vgpu;

import static dev.jgvt.core.vgpu.VgpuLifecycleTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.PvInfo;
import dev.jgvt.core.pci.ConfigSpace;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.PlaneInfo;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class VgpuDeviceModelTest {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final ManualClock clock = new ManualClock();
    private final VgpuManager manager = new VgpuManager(HostGeometry.defaults(), clock);
    private Vgpu vgpu;
    private FakeBinding guest;
    private TestAttachment attachment;

    @BeforeEach
    void create() {
        manager.create("GVTg_V5_8"); // vGPU 1, so vGPU 2 has a partition that does not start at the first guest byte
        vgpu = manager.create("GVTg_V5_4");
        guest = new FakeBinding(1 << 20);
        attachment = TestAttachment.attach(vgpu, guest);
        vgpu.activate();
    }

    private long mmio(int offset) {
        return vgpu.read(DeviceLayout.BAR0, offset, 4);
    }

    private void mmio(int offset, int value) {
        vgpu.write(DeviceLayout.BAR0, offset, 4, value & 0xFFFFFFFFL);
    }

    @Test
    void layoutIsTheVfioView() {
        DeviceLayout layout = vgpu.layout();
        assertThat(layout.vendorId()).isEqualTo(0x8086);
        assertThat(layout.deviceId()).isEqualTo(0x1912);
        assertThat(layout.region(DeviceLayout.CONFIG).orElseThrow().size()).isEqualTo(4096);
        assertThat(layout.region(DeviceLayout.BAR0).orElseThrow().size()).isEqualTo(16 << 20);
        assertThat(layout.region(DeviceLayout.BAR0).orElseThrow().mmapAreas()).isEmpty();
        DeviceLayout.Region bar2 = layout.region(DeviceLayout.BAR2).orElseThrow();
        assertThat(bar2.size()).isEqualTo(1L << 30);
        assertThat(bar2.flags()).contains(DeviceLayout.Flag.MMAP);
        assertThat(bar2.mmapAreas()).containsExactly(
                new DeviceLayout.Area(vgpu.partition().aperture().base(), vgpu.partition().aperture().size()));
        DeviceLayout.Region op = layout.region(Vgpu.OPREGION_REGION).orElseThrow();
        assertThat(op.size()).isEqualTo(8192);
        assertThat(op.type()).isEqualTo(0x80008086);
        assertThat(op.subtype()).isEqualTo(1);
        assertThat(op.writable()).isFalse();
        DeviceLayout.Region edid = layout.region(Vgpu.EDID_REGION).orElseThrow();
        assertThat(edid.type()).isEqualTo(1);
        assertThat(edid.subtype()).isEqualTo(1);
        assertThat(layout.irqs()).containsExactly(new DeviceLayout.Irq(0, 1), new DeviceLayout.Irq(1, 1));
        assertThat(vgpu.read(DeviceLayout.CONFIG, 0, 4)).isEqualTo(0x19128086L);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 5, 6, 7, 16, -1})
    void oddSizesAreTheCallersMistake(int size) {
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> vgpu.read(DeviceLayout.BAR0, 0, size));
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> vgpu.write(DeviceLayout.CONFIG, 0, size, 0));
    }

    @Test
    void badRegionsAndOffsetsAreTheCallersMistake() {
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> vgpu.read(1, 0, 4));
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> vgpu.read(-1, 0, 4));
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> vgpu.write(42, 0, 4, 0));
        assertCode(ErrorCode.OUT_OF_RANGE, () -> vgpu.read(DeviceLayout.CONFIG, 4096, 1));
        assertCode(ErrorCode.OUT_OF_RANGE, () -> vgpu.read(DeviceLayout.CONFIG, 4094, 4));
        assertCode(ErrorCode.OUT_OF_RANGE, () -> vgpu.read(DeviceLayout.BAR0, 16 << 20, 4));
        assertCode(ErrorCode.OUT_OF_RANGE, () -> vgpu.read(DeviceLayout.BAR0, -4, 4));
        assertCode(ErrorCode.OUT_OF_RANGE, () -> vgpu.write(DeviceLayout.BAR0, Long.MAX_VALUE - 2, 8, 0));
        assertCode(ErrorCode.OUT_OF_RANGE, () -> vgpu.read(DeviceLayout.BAR2, 1L << 30, 1));
        assertCode(ErrorCode.OUT_OF_RANGE, () -> vgpu.read(Vgpu.OPREGION_REGION, 8190, 4));
        assertCode(ErrorCode.PERMISSION_DENIED, () -> vgpu.write(Vgpu.OPREGION_REGION, 0, 4, 0));
        // the last byte of each region is fine
        vgpu.read(DeviceLayout.BAR0, (16 << 20) - 8, 8);
        vgpu.read(DeviceLayout.CONFIG, 4095, 1);
    }

    @Test
    void guestMistakesNeverThrow() {
        long before = vgpu.unhandledAccesses();
        assertThat(vgpu.read(DeviceLayout.BAR0, 0x3000_00, 4)).isZero(); // between register file and GGTT
        vgpu.write(DeviceLayout.BAR0, 0x3000_00, 4, 1);
        assertThat(vgpu.read(DeviceLayout.BAR0, 0x4, 4)).isZero(); // no table row: a virtual register, 0 at reset
        vgpu.write(DeviceLayout.BAR0, 0x2032, 4, 1); // unaligned
        assertThat(vgpu.unhandledAccesses()).isEqualTo(before + 4);
        vgpu.write(DeviceLayout.BAR0, 0x4, 4, 0xA5);
        assertThat(vgpu.read(DeviceLayout.BAR0, 0x4, 4)).isEqualTo(0xA5); // stored and read back, logged once
        vgpu.write(DeviceLayout.BAR2, 0, 4, 1); // aperture outside the slice
        assertThat(vgpu.read(DeviceLayout.BAR2, 0, 4)).isZero();
    }

    @Test
    void pvinfoTellsTheGuestItsPartition() {
        assertThat(vgpu.pvNotified()).isFalse();
        long magic = vgpu.read(DeviceLayout.BAR0, Gen9Registers.PVINFO_PAGE, 8);
        assertThat(magic).isEqualTo(PvInfo.MAGIC);
        assertThat(vgpu.pvNotified()).isTrue();
        VgpuPartition p = vgpu.partition();
        assertThat(mmio(Gen9Registers.PVINFO_PAGE + 0x40)).isEqualTo(p.aperture().base());
        assertThat(mmio(Gen9Registers.PVINFO_PAGE + 0x44)).isEqualTo(p.aperture().size());
        assertThat(mmio(Gen9Registers.PVINFO_PAGE + 0x48)).isEqualTo(p.hidden().base() & 0xFFFFFFFFL);
        assertThat(mmio(Gen9Registers.PVINFO_PAGE + 0x4C)).isEqualTo(p.hidden().size());
        assertThat(mmio(Gen9Registers.PVINFO_PAGE + 0x50)).isEqualTo(4);
        assertThat(mmio(Gen9Registers.PVINFO_PAGE + 0x0C)).isEqualTo(vgpu.id());
    }

    private void enableMsiAndInterrupts() {
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.MSI_ADDRESS, 4, 0xFEE00000L);
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.MSI_CONTROL, 2, 1);
        mmio(0x44304, ~1); // GT0 IMR: unmask RCS user interrupt
        mmio(0x4430C, 1); // GT0 IER
        mmio(0x44200, 1 << 31); // master enable
    }

    @Test
    void eventsBecomeMsisOnlyWhenEverythingIsEnabled() {
        enableMsiAndInterrupts();
        vgpu.raise(IrqEvent.RCS_USER_INTERRUPT);
        assertThat(guest.msis.get()).isEqualTo(1);
        assertThat(mmio(0x44308)).isEqualTo(1);
        assertThat(mmio(0x44200)).isEqualTo(0x80000001L);

        // MSI disabled in config space: nothing reaches the sink
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.MSI_CONTROL, 2, 0);
        vgpu.raise(IrqEvent.RCS_USER_INTERRUPT);
        assertThat(guest.msis.get()).isEqualTo(1);
        assertThat(vgpu.msiSuppressed()).isEqualTo(1);

        // a masked event is not latched and raises nothing
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.MSI_CONTROL, 2, 1);
        mmio(0x44308, 1); // ack
        assertThat(mmio(0x44200)).isEqualTo(0x80000000L);
        vgpu.raise(IrqEvent.RCS_CONTEXT_SWITCH);
        assertThat(mmio(0x44308)).isZero();
        assertThat(guest.msis.get()).isEqualTo(1);

        // master disabled: latched but not delivered until re-enabled
        mmio(0x44200, 0);
        vgpu.raise(IrqEvent.RCS_USER_INTERRUPT);
        assertThat(guest.msis.get()).isEqualTo(1);
        mmio(0x44200, 1 << 31);
        assertThat(guest.msis.get()).isEqualTo(2);
    }

    @Test
    void ggttWindowEntriesAreEightBytesAndTheApertureSliceIsTranslatedThroughThem() {
        long slice = vgpu.partition().aperture().base();
        long entry = MmioSpace.GGTT_WINDOW_OFFSET + (slice >>> 12) * 8;
        vgpu.write(DeviceLayout.BAR0, entry, 8, 0x5000 | 1);
        assertThat(vgpu.read(DeviceLayout.BAR0, entry, 8)).isEqualTo(0x5001);
        assertThat(vgpu.read(DeviceLayout.BAR0, entry, 4)).isEqualTo(0x5001);
        assertThat(vgpu.read(DeviceLayout.BAR0, entry + 4, 4)).isZero();

        vgpu.write(DeviceLayout.BAR2, slice + 0x10, 4, 0xCAFEF00DL);
        assertThat(guest.ram.get(LE_INT, 0x5010)).isEqualTo(0xCAFEF00D);
        assertThat(vgpu.read(DeviceLayout.BAR2, slice + 0x10, 2)).isEqualTo(0xF00D);
        // next page has no valid entry: reads 0
        assertThat(vgpu.read(DeviceLayout.BAR2, slice + 0x1000, 4)).isZero();
    }

    @Test
    void deviceResetRestoresPowerOnState() {
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.COMMAND, 2, ConfigSpace.COMMAND_MEMORY);
        mmio(0x2030, 0x1234); // RCS tail
        mmio(0x44304, 0);
        vgpu.read(DeviceLayout.BAR0, Gen9Registers.PVINFO_PAGE, 4);
        List<String> heard = new ArrayList<>();
        attachment.resets = (new ResetListener() {
            @Override
            public void deviceReset() {
                heard.add("device");
            }
        });
        vgpu.reset();
        assertThat(heard).containsExactly("device");
        assertThat(vgpu.read(DeviceLayout.CONFIG, ConfigSpace.COMMAND, 2)).isZero();
        assertThat(vgpu.bar0TrapBase()).isEmpty();
        assertThat(mmio(0x2030)).isZero();
        assertThat(mmio(0x44304)).isEqualTo(0xFFFFFFFFL);
        assertThat(vgpu.pvNotified()).isFalse();
        assertThat(vgpu.read(DeviceLayout.BAR0, Gen9Registers.PVINFO_PAGE, 8)).isEqualTo(PvInfo.MAGIC);
    }

    @Test
    void gdrstResetsOnlyTheRequestedEnginesAndReadsBackZero() {
        List<Integer> masks = new ArrayList<>();
        attachment.resets = (new ResetListener() {
            @Override
            public void engineReset(int domainMask) {
                masks.add(domainMask);
            }
        });
        mmio(0x2030, 0x100); // RCS tail
        mmio(0x22030, 0x200); // BCS tail
        mmio(0x45404, 0x2); // power well (above the GT area)
        mmio(Gen9Registers.GDRST, Engine.RCS.resetDomain());
        assertThat(mmio(Gen9Registers.GDRST)).isZero();
        assertThat(mmio(0x2030)).isZero();
        assertThat(mmio(0x22030)).isEqualTo(0x200);
        mmio(Gen9Registers.GDRST, Gen9Registers.GDRST_FULL);
        assertThat(mmio(0x22030)).isZero();
        assertThat(mmio(0x45404)).isEqualTo(0x3);
        assertThat(masks).containsExactly(Engine.RCS.resetDomain(), Gen9Registers.GDRST_FULL);
    }

    @Test
    void swsciIsAnsweredThroughTheGuestOpRegion() {
        StringBuilder signature = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            signature.append((char) vgpu.read(Vgpu.OPREGION_REGION, i, 1));
        }
        assertThat(signature.toString()).isEqualTo("IntelGraphicsMem");
        long asls = 0x10000;
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.ASLS, 4, asls);
        assertThat(vgpu.opRegionGpa()).isEqualTo(asls);
        // GBDA "query supported calls": succeeds with nothing supported
        guest.ram.set(LE_INT, asls + 0x200, (4 << 1) | 1);
        guest.ram.set(LE_INT, asls + 0x204, 0x55);
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.SWSCI, 2, 0x8001);
        assertThat(guest.ram.get(LE_INT, asls + 0x200)).isZero();
        assertThat(guest.ram.get(LE_INT, asls + 0x204)).isZero();
        assertThat(vgpu.read(DeviceLayout.CONFIG, ConfigSpace.SWSCI, 2)).isEqualTo(0x8000);
        // anything else: exit status cleared
        int request = (5 << 1) | (1 << 5) | 1;
        guest.ram.set(LE_INT, asls + 0x200, request);
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.SWSCI, 2, 0x8001);
        assertThat(guest.ram.get(LE_INT, asls + 0x200)).isEqualTo(5 << 1);
        // an SMI request (bit 15 clear) is refused: the guest's OpRegion is untouched
        guest.ram.set(LE_INT, asls + 0x200, request);
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.SWSCI, 2, 0x0001);
        assertThat(guest.ram.get(LE_INT, asls + 0x200)).isEqualTo(request);
    }

    @Test
    void vblankDrivesInterruptsAndStopsWithThePipe() {
        enableMsiAndInterrupts();
        mmio(0x44404, ~1); // DE pipe A IMR: unmask vblank
        mmio(0x4440C, 1);
        assertThat(vgpu.vblankRunning()).isFalse();
        mmio(Gen9Registers.PIPEACONF, 1 << 31);
        assertThat(mmio(Gen9Registers.PIPEACONF)).isEqualTo(0xC0000000L);
        assertThat(vgpu.vblankRunning()).isTrue();
        assertThat(clock.lastPeriod).isEqualTo(1_000_000_000L / 60);
        clock.tick();
        assertThat(mmio(0x44408) & 1).isEqualTo(1);
        assertThat(mmio(0x44200) & (1 << 16)).isNotZero();
        assertThat(guest.msis.get()).isEqualTo(1);
        assertThat(mmio(Gen9Registers.PIPE_FRMCOUNT_A)).isEqualTo(1);
        mmio(Gen9Registers.PIPEACONF, 0);
        assertThat(vgpu.vblankRunning()).isFalse();
        assertThat(clock.running).isEmpty();
    }

    @Test
    void ballooningFailureEntersFailsafeUntilReset() {
        mmio(0x2030, 7);
        mmio(Gen9Registers.PVINFO_PAGE + 0x808, 1);
        assertThat(vgpu.failsafe()).isTrue();
        assertThat(mmio(0x2030)).isZero();
        vgpu.reset();
        assertThat(vgpu.failsafe()).isFalse();
    }

    @Test
    void planeQueryThroughTheDeviceModel() {
        long surface = vgpu.partition().aperture().base();
        mmio(Gen9Registers.PIPEACONF, 1 << 31);
        mmio(Gen9Registers.PLANE_SIZE_1_A, (767 << 16) | 1023);
        mmio(Gen9Registers.PLANE_STRIDE_1_A, 4096 / 64);
        mmio(Gen9Registers.PLANE_SURF_1_A, (int) surface);
        assertThat(vgpu.queryPlane(PlaneInfo.PlaneType.PRIMARY)).isEmpty(); // not enabled yet
        mmio(Gen9Registers.PLANE_CTL_1_A, (1 << 31) | (4 << 24));
        PlaneInfo plane = vgpu.queryPlane(PlaneInfo.PlaneType.PRIMARY).orElseThrow();
        assertThat(plane.width()).isEqualTo(1024);
        assertThat(plane.height()).isEqualTo(768);
        assertThat(plane.stride()).isEqualTo(4096);
        assertThat(plane.graphicsAddress()).isEqualTo(surface);
        // another vGPU's memory is refused
        mmio(Gen9Registers.PLANE_SURF_1_A, 128 << 20);
        assertThat(vgpu.queryPlane(PlaneInfo.PlaneType.PRIMARY)).isEmpty();
    }

    @Test
    void edidMatchesTheTypeResolution() {
        byte[] edid = vgpu.edid();
        assertThat(edid).hasSize(128);
        int width = (edid[56] & 0xFF) | (edid[58] & 0xF0) << 4;
        int height = (edid[59] & 0xFF) | (edid[61] & 0xF0) << 4;
        assertThat(width).isEqualTo(1920);
        assertThat(height).isEqualTo(1200);
        assertThat(vgpu.read(Vgpu.EDID_REGION, 0xC, 4)).isEqualTo(1920);
        assertThat(vgpu.read(Vgpu.EDID_REGION, 2048, 8)).isEqualTo(0x00FFFFFFFFFFFF00L);
    }

    @Test
    void fencesBeyondTheVgpusShareAreNotReachable() {
        vgpu.write(DeviceLayout.BAR0, Gen9Registers.FENCE_BASE + 8 * 3, 8, 0x1234_5678_9ABC_D000L);
        assertThat(vgpu.fence(3)).contains(0x1234_5678_9ABC_D000L);
        long before = vgpu.unhandledAccesses();
        vgpu.write(DeviceLayout.BAR0, Gen9Registers.FENCE_BASE + 8 * 4, 8, -1L);
        vgpu.write(DeviceLayout.BAR0, Gen9Registers.FENCE_BASE + 8 * 31, 4, -1L);
        assertThat(vgpu.read(DeviceLayout.BAR0, Gen9Registers.FENCE_BASE + 8 * 4, 8)).isZero();
        assertThat(vgpu.fence(4)).isEmpty();
        assertThat(vgpu.fence(-1)).isEmpty();
        assertThat(vgpu.unhandledAccesses()).isGreaterThan(before);
    }

    @Test
    void enablingExeclistsWithoutReadingPvinfoIsAnUnsupportedGuest() {
        int rcsMode = 0x229C;
        mmio(rcsMode, (Gen9Registers.RING_MODE_RUN_LIST_ENABLE << 16) | Gen9Registers.RING_MODE_RUN_LIST_ENABLE);
        assertThat(vgpu.failsafe()).isTrue();
        vgpu.reset();
        vgpu.read(DeviceLayout.BAR0, Gen9Registers.PVINFO_PAGE, 8);
        mmio(rcsMode, (Gen9Registers.RING_MODE_RUN_LIST_ENABLE << 16) | Gen9Registers.RING_MODE_RUN_LIST_ENABLE);
        assertThat(vgpu.failsafe()).isFalse();
        assertThat(mmio(rcsMode)).isEqualTo(Gen9Registers.RING_MODE_RUN_LIST_ENABLE);
    }

    @Test
    void configSpaceDecidesWhereBar0AndTheApertureSliceLive() {
        assertThat(vgpu.bar0TrapBase()).isEmpty();
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.BAR0, 8, 0xE000_0000L);
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.BAR2, 8, 0x4_0000_0000L);
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.COMMAND, 2, ConfigSpace.COMMAND_MEMORY);
        assertThat(vgpu.bar0TrapBase()).contains(0xE000_0000L);
        assertThat(vgpu.apertureMapping()).contains(0x4_0000_0000L + vgpu.partition().aperture().base());
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.BAR0, 4, 0xD000_0000L); // moved while enabled
        assertThat(vgpu.bar0TrapBase()).contains(0xD000_0000L);
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.COMMAND, 2, 0);
        assertThat(vgpu.bar0TrapBase()).isEmpty();
        assertThat(vgpu.apertureMapping()).isEmpty();
    }

    @Test
    void elspSubmissionsReachTheExeclistLayer() {
        List<String> got = new ArrayList<>();
        attachment.elsp = ((engine, e0, e1) -> got.add(engine + " " + Long.toHexString(e0)));
        int elsp = 0x1A000 + Gen9Registers.RING_ELSP;
        mmio(elsp, 0);
        mmio(elsp, 0);
        mmio(elsp, 0x2);
        mmio(elsp, 0x1009);
        assertThat(got).containsExactly("VECS 200001009");
    }
}
