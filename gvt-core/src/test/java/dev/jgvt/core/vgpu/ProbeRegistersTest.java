package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.mmio.AuxSink;
import dev.jgvt.core.mmio.DisplayHandlers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.StandardHandlers;
import dev.jgvt.core.pci.ConfigSpace;
import dev.jgvt.spi.DeviceLayout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The registers an unmodified i915 reads and waits on while it probes a Skylake GT2 vGPU, exercised through
 * the vGPU's BAR0 path: config space, the engine reset handshake, golden GT state, read-back registers and
 * the display's fake hardware.
 */
final class ProbeRegistersTest {
    private final VgpuManager manager = new VgpuManager(HostGeometry.defaults(), new ManualClock());
    private Vgpu vgpu;

    @BeforeEach
    void create() {
        vgpu = manager.create("GVTg_V5_4");
        TestAttachment.attach(vgpu, new FakeBinding(1 << 20));
        vgpu.activate();
    }

    private long mmio(int offset) {
        return vgpu.read(DeviceLayout.BAR0, offset, 4);
    }

    private void mmio(int offset, int value) {
        vgpu.write(DeviceLayout.BAR0, offset, 4, value & 0xFFFFFFFFL);
    }

    @Test
    void gmchTellsI915TheGgttSizeTheWindowServes() {
        long gmch = vgpu.read(DeviceLayout.CONFIG, ConfigSpace.GMCH, 2);
        assertThat((gmch >>> 6) & 3).isEqualTo(3); // 8 MiB of PTEs
        assertThat((gmch >>> 8) & 0xFF).isZero(); // no stolen memory
        assertThat(8L << 20).isEqualTo(MmioSpace.GGTT_WINDOW_SIZE);
    }

    @ParameterizedTest(name = "engine base 0x{0}")
    @ValueSource(ints = {0x2000, 0x22000, 0x12000, 0x1A000})
    void ringResetCtlIsReadyOnceAResetIsRequested(int base) {
        int ctl = base + StandardHandlers.RING_RESET_CTL;
        assertThat(mmio(ctl)).isZero();
        mmio(ctl, 0x0001_0001); // masked enable of REQUEST_RESET
        assertThat(mmio(ctl)).isEqualTo(StandardHandlers.RESET_CTL_REQUEST_RESET | StandardHandlers.RESET_CTL_READY_TO_RESET);
        mmio(ctl, 0x0000_0000); // no mask bits: nothing changes
        assertThat(mmio(ctl) & StandardHandlers.RESET_CTL_READY_TO_RESET).isNotZero();
        mmio(ctl, 0x0001_0000); // masked disable: cancel
        assertThat(mmio(ctl)).isZero();
    }

    @Test
    void goldenSkylakeGt2State() {
        long fuse2 = mmio(0x9120);
        assertThat((fuse2 >>> 25) & 7).as("slice enable").isEqualTo(1);
        int subslicesEnabled = Integer.bitCount((int) (~(fuse2 >>> 20) & 0xF));
        int euDisabled = Integer.bitCount((int) mmio(0x9134) & 0xFFFFFF);
        assertThat(subslicesEnabled * 8 - euDisabled).as("EU total").isEqualTo(24);
        assertThat(mmio(0xC000) & 1).as("GuC MIA in reset").isEqualTo(1);
        mmio(0xC000, 0);
        assertThat(mmio(0xC000) & 1).isEqualTo(1);
        long rp = mmio(0x145998);
        assertThat(rp & 0xFF).as("RP0").isGreaterThanOrEqualTo((rp >>> 8) & 0xFF);
        assertThat((rp >>> 8) & 0xFF).as("RP1").isGreaterThanOrEqualTo((rp >>> 16) & 0xFF);
        assertThat((rp >>> 16) & 0xFF).as("RPn").isPositive();
        assertThat(mmio(0x14500C) & 0x3F).as("channel 0 DIMM GB").isPositive();
        assertThat(mmio(0x145010) & 0x3F).as("channel 1 DIMM GB").isPositive();
        assertThat(mmio(0x145E04) & 0xF).as("memory frequency").isPositive();
        assertThat(mmio(0x42000) & 0x8E00_0000L).as("fuse download + PG0-2 distributed").isEqualTo(0x8E00_0000L);
    }

    @ParameterizedTest(name = "0x{0}")
    @ValueSource(ints = {0xFDC, 0x4090, 0x4AB0, 0x4DDC, 0x940C, 0x4024, 0xC800, 0xCCFC, 0xB020, 0xB09C, 0x24D0,
            0x24FC, 0x224D0, 0x124D0, 0x1A4D0, 0x46000, 0x6C058, 0x6C05C, 0x6C040, 0x45500, 0x70030})
    void workaroundMocsNonprivAndDisplayStateReadBack(int offset) {
        mmio(offset, 0x1234_5678);
        assertThat(mmio(offset)).isEqualTo(0x1234_5678L);
    }

    @Test
    void pllLockFollowsEnableAndDpllStatusReportsIt() {
        assertThat(mmio(DisplayHandlers.DPLL_STATUS)).isZero();
        mmio(DisplayHandlers.LCPLL1_CTL, DisplayHandlers.PLL_ENABLE);
        assertThat(mmio(DisplayHandlers.LCPLL1_CTL)).isEqualTo(0xC000_0000L);
        mmio(DisplayHandlers.WRPLL_CTL2, DisplayHandlers.PLL_ENABLE);
        assertThat(mmio(DisplayHandlers.DPLL_STATUS)).isEqualTo((1L << 24) | 1);
        mmio(DisplayHandlers.LCPLL1_CTL, 0);
        assertThat(mmio(DisplayHandlers.LCPLL1_CTL)).isZero();
        assertThat(mmio(DisplayHandlers.DPLL_STATUS)).isEqualTo(1L << 24);
    }

    @Test
    void dbufDdiBuffersPowerWellsAndPanelPowerFollowTheirRequests() {
        mmio(DisplayHandlers.DBUF_CTL, DisplayHandlers.DBUF_POWER_REQUEST);
        assertThat(mmio(DisplayHandlers.DBUF_CTL)).isEqualTo(0xC000_0000L);
        mmio(DisplayHandlers.DBUF_CTL, 0);
        assertThat(mmio(DisplayHandlers.DBUF_CTL)).isZero();

        int ddiB = DisplayHandlers.DDI_BUF_CTL_A + 0x100;
        assertThat(mmio(ddiB) & DisplayHandlers.DDI_BUF_IDLE).isNotZero();
        mmio(ddiB, DisplayHandlers.DDI_BUF_ENABLE | 0x6);
        assertThat(mmio(ddiB)).isEqualTo(0x8000_0006L);
        mmio(ddiB, 0);
        assertThat(mmio(ddiB)).isEqualTo(DisplayHandlers.DDI_BUF_IDLE);

        mmio(0x45404, (1 << 31) | (1 << 29) | (1 << 1)); // PG2, PG1, misc IO requests
        assertThat(mmio(0x45404)).isEqualTo(0xF000_0003L);

        assertThat(mmio(DisplayHandlers.PP_STATUS)).isZero();
        mmio(DisplayHandlers.PP_CONTROL, 0xABCD_0000 | DisplayHandlers.PP_POWER_TARGET_ON | 0x8);
        assertThat(mmio(DisplayHandlers.PP_STATUS)).isEqualTo(DisplayHandlers.PP_ON & 0xFFFFFFFFL);
        mmio(DisplayHandlers.PP_CONTROL, 0x8); // VDD forced, target off
        assertThat(mmio(DisplayHandlers.PP_STATUS)).isZero();
    }

    @ParameterizedTest(name = "DDI {0}")
    @ValueSource(ints = {0, 1, 2}) // DDI D has the virtual monitor (VirtualMonitorTest)
    void dpAuxWithoutASinkTimesOutAtOnceAndStatusBitsClear(int port) {
        int ctl = DisplayHandlers.AUX_CTL_A + 0x100 * port;
        mmio(ctl + 4, 0x9000_0000); // native read of DPCD 0, 1 byte
        mmio(ctl, DisplayHandlers.AUX_SEND_BUSY | (4 << DisplayHandlers.AUX_MESSAGE_SIZE_SHIFT) | 0x3F);
        long status = mmio(ctl);
        assertThat(status & DisplayHandlers.AUX_SEND_BUSY).isZero();
        assertThat(status & DisplayHandlers.AUX_DONE).isNotZero();
        assertThat(status & DisplayHandlers.AUX_TIME_OUT_ERROR).isNotZero();
        assertThat(status & DisplayHandlers.AUX_RECEIVE_ERROR).isZero();
        mmio(ctl, (int) status); // i915 writes the sticky bits back to clear them
        assertThat(mmio(ctl) & (DisplayHandlers.AUX_DONE | DisplayHandlers.AUX_TIME_OUT_ERROR)).isZero();
    }

    @ParameterizedTest(name = "IIR 0x{0}")
    @ValueSource(ints = {0xC4008, 0x64838})
    void southDisplayAndPsrIirsClearOnTheResetWrite(int iir) {
        mmio(iir - 4, -1); // IMR: all masked
        mmio(iir, -1);
        mmio(iir, -1);
        assertThat(mmio(iir)).isZero(); // i915 asserts this after its IRQ reset
        assertThat(mmio(iir - 4)).isEqualTo(0xFFFF_FFFFL);
    }

    @Test
    void gmbusCyclesEndInANakAtOnceWithoutADevice() {
        mmio(0xC5100, 4); // pin select
        assertThat(mmio(DisplayHandlers.GMBUS2)).isZero();
        mmio(DisplayHandlers.GMBUS1, DisplayHandlers.GMBUS_SW_RDY | (1 << 25) | (1 << 16) | (0x50 << 1) | 1); // read 1 byte at 0x50
        long status = mmio(DisplayHandlers.GMBUS2);
        assertThat(status & DisplayHandlers.GMBUS_SATOER).isNotZero();
        assertThat(status & (1 << 9)).as("not active").isZero();
        assertThat(status & (1 << 11)).as("no data ready").isZero();
        mmio(DisplayHandlers.GMBUS2, 0); // read-only
        assertThat(mmio(DisplayHandlers.GMBUS2)).isEqualTo(status);
        mmio(DisplayHandlers.GMBUS1, DisplayHandlers.GMBUS_SW_CLR_INT);
        mmio(DisplayHandlers.GMBUS1, 0);
        assertThat(mmio(DisplayHandlers.GMBUS2)).isZero();
    }

    @Test
    void ddcLinesReadHighUnlessDrivenLow() {
        int gpio = 0xC5020;
        assertThat(mmio(gpio) & (1 << 4)).as("clock in").isNotZero();
        assertThat(mmio(gpio) & (1 << 12)).as("data in").isNotZero();
        mmio(gpio, 0b1111); // clock: direction out, value 0 (both enables set)... value bit 3 set: high
        assertThat(mmio(gpio) & (1 << 4)).isNotZero();
        mmio(gpio, 0b0111); // clock driven low
        assertThat(mmio(gpio) & (1 << 4)).isZero();
        assertThat(mmio(gpio) & (1 << 12)).as("data untouched, still released").isNotZero();
        mmio(gpio, (0b0111 << 8)); // data driven low; clock bits without enables keep their state
        assertThat(mmio(gpio) & (1 << 12)).isZero();
        assertThat(mmio(gpio) & (1 << 4)).isZero();
        mmio(gpio, 0b0001 | (0b0001 << 8)); // both released (direction in)
        assertThat(mmio(gpio) & ((1 << 4) | (1 << 12))).isEqualTo((1 << 4) | (1 << 12));
    }

    @Test
    void aPcodeSagvDisableIsAnsweredDisabled() {
        mmio(0x138128, StandardHandlers.SAGV_DISABLE);
        mmio(0x138124, StandardHandlers.PCODE_READY | StandardHandlers.PCODE_SAGV_CONTROL);
        assertThat(mmio(0x138124) & StandardHandlers.PCODE_READY).isZero();
        assertThat(mmio(0x138128)).isEqualTo(StandardHandlers.SAGV_IS_DISABLED);
    }

    @Test
    void aDeviceResetRestoresGoldenValues() {
        mmio(0x45008, DisplayHandlers.DBUF_POWER_REQUEST);
        mmio(0x4090, 5);
        vgpu.reset();
        assertThat(mmio(0x45008)).isZero();
        assertThat(mmio(0x4090)).isZero();
        assertThat(mmio(0x9120)).isEqualTo(0x0280_0000L);
        assertThat(mmio(DisplayHandlers.DDI_BUF_CTL_A)).isEqualTo(DisplayHandlers.DDI_BUF_IDLE);
        assertThat(AuxSink.NONE.transact(0, null, 0, 0)).isEqualTo(AuxSink.NO_REPLY);
    }
}
