package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.display.Edid;
import dev.jgvt.core.display.OptionRom;
import dev.jgvt.core.display.OptionRomTestSupport;
import dev.jgvt.core.mmio.DisplayHandlers;
import dev.jgvt.core.pci.ConfigSpace;
import dev.jgvt.spi.DeviceLayout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The virtual monitor as i915 finds it through the device: hotplug live status, DPCD over native AUX and EDID over
 * I2C-over-AUX on DDI D, link status that passes training at once, and the expansion ROM with its VBT behind a
 * sizable ROM BAR.
 */
final class VirtualMonitorTest {
    private static final int SDEISR = 0xC4000;
    private static final int PORTD_HOTPLUG = 1 << 23;
    private static final int AUX_CTL_D = DisplayHandlers.AUX_CTL_A + 0x300;
    private static final int DP_TP_STATUS_D = 0x64344;
    private final VgpuManager manager = new VgpuManager(HostGeometry.defaults(), new ManualClock());
    private Vgpu vgpu;

    @BeforeEach
    void create() {
        vgpu = manager.create("GVTg_V5_4");
        TestAttachment.attach(vgpu, new FakeBinding(1 << 20));
        vgpu.activate();
    }

    private int mmio(int offset) {
        return (int) vgpu.read(DeviceLayout.BAR0, offset, 4);
    }

    private void mmio(int offset, int value) {
        vgpu.write(DeviceLayout.BAR0, offset, 4, value & 0xFFFFFFFFL);
    }

    /** One AUX transaction on DDI D: {@code request} bytes in, the reply bytes out (empty on a timeout). */
    private byte[] aux(int... request) {
        for (int i = 0; i < request.length; i += 4) {
            int dw = 0;
            for (int b = 0; b < 4; b++) {
                dw |= (i + b < request.length ? request[i + b] & 0xFF : 0) << (24 - 8 * b);
            }
            mmio(AUX_CTL_D + 4 + i, dw);
        }
        mmio(AUX_CTL_D, DisplayHandlers.AUX_SEND_BUSY | DisplayHandlers.AUX_DONE | DisplayHandlers.AUX_TIME_OUT_ERROR
                | (request.length << DisplayHandlers.AUX_MESSAGE_SIZE_SHIFT));
        int status = mmio(AUX_CTL_D);
        assertThat(status & DisplayHandlers.AUX_SEND_BUSY).isZero();
        assertThat(status & DisplayHandlers.AUX_DONE).isNotZero();
        if ((status & DisplayHandlers.AUX_TIME_OUT_ERROR) != 0) {
            return new byte[0];
        }
        int size = (status & DisplayHandlers.AUX_MESSAGE_SIZE_MASK) >>> DisplayHandlers.AUX_MESSAGE_SIZE_SHIFT;
        byte[] reply = new byte[size];
        for (int i = 0; i < size; i++) {
            reply[i] = (byte) (mmio(AUX_CTL_D + 4 + (i & ~3)) >>> (24 - 8 * (i & 3)));
        }
        return reply;
    }

    @Test
    void theMonitorOnPortDIsConnectedAndNothingElseAnswersAux() {
        assertThat(mmio(SDEISR) & PORTD_HOTPLUG).isNotZero();
        mmio(DisplayHandlers.AUX_CTL_A, DisplayHandlers.AUX_SEND_BUSY | (4 << DisplayHandlers.AUX_MESSAGE_SIZE_SHIFT));
        assertThat(mmio(DisplayHandlers.AUX_CTL_A) & DisplayHandlers.AUX_TIME_OUT_ERROR).as("no eDP on port A").isNotZero();
    }

    @Test
    void dpcdDescribesADp12SinkAndReportsTheLinkTrained() {
        byte[] caps = aux(0x90, 0x00, 0x00, 14); // native read of 15 bytes at 0x000
        assertThat(caps).hasSize(16);
        assertThat(caps[0]).as("ACK").isZero();
        assertThat(caps[1]).as("DPCD 1.2").isEqualTo((byte) 0x12);
        assertThat(caps[2]).as("HBR2").isEqualTo((byte) 0x14);
        assertThat(caps[3] & 0x1F).as("4 lanes").isEqualTo(4);
        assertThat(caps[3] & 0x80).as("enhanced framing").isNotZero();
        assertThat(caps[6] & 1).as("no branch device").isZero();

        // training: the source writes the pattern and lane settings; status reports CR/EQ/lock/alignment at once
        assertThat(aux(0x80, 0x01, 0x02, 4, 0x21, 0, 0, 0, 0)).containsExactly(0);
        assertThat(aux(0x90, 0x01, 0x02, 0)).containsExactly(0, 0x21);
        assertThat(aux(0x90, 0x02, 0x02, 5)).containsExactly(0, 0x77, 0x77, 0x01, 0x03, 0, 0);
        // capabilities are read-only
        aux(0x80, 0x00, 0x00, 0, 0x11);
        assertThat(aux(0x90, 0x00, 0x00, 0)).containsExactly(0, 0x12);
        assertThat(mmio(DP_TP_STATUS_D) & (1 << 25)).as("DP_TP_STATUS idle done").isNotZero();
    }

    @Test
    void edidOverI2cOverAuxIsTheTypesResolution() {
        byte[] expected = Edid.forResolution(1920, 1200);
        assertThat(aux(0x40, 0x00, 0x50)).as("address-only start, MOT").containsExactly(0);
        assertThat(aux(0x40, 0x00, 0x50, 0, 0x00)).as("offset 0").containsExactly(0);
        assertThat(aux(0x50, 0x00, 0x50)).as("restart for read").containsExactly(0);
        byte[] edid = new byte[Edid.SIZE];
        for (int at = 0; at < Edid.SIZE; at += 16) {
            byte[] reply = aux(0x50, 0x00, 0x50, 15);
            assertThat(reply).hasSize(17);
            assertThat(reply[0]).isZero();
            System.arraycopy(reply, 1, edid, at, 16);
        }
        assertThat(aux(0x10, 0x00, 0x50)).as("stop").containsExactly(0);
        assertThat(edid).isEqualTo(expected);
        assertThat(aux(0x50, 0x00, 0x37, 0)).as("no device at 0x37: I2C NACK").containsExactly(0x40);
    }

    @Test
    void theRomBarSizesAndTheRomRegionHoldsAValidImageWithTheVbt() {
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.ROM, 4, 0xFFFFF7FEL);
        assertThat(vgpu.read(DeviceLayout.CONFIG, ConfigSpace.ROM, 4)).isEqualTo(0xFFFFE000L);
        DeviceLayout.Region rom = vgpu.layout().region(Vgpu.ROM_REGION).orElseThrow();
        assertThat(rom.size()).isEqualTo(OptionRom.SIZE);
        assertThat(rom.readable()).isTrue();
        assertThat(rom.writable()).isFalse();
        byte[] image = new byte[OptionRom.SIZE];
        for (int i = 0; i < image.length; i += 8) {
            long v = vgpu.read(Vgpu.ROM_REGION, i, 8);
            for (int b = 0; b < 8; b++) {
                image[i + b] = (byte) (v >>> (8 * b));
            }
        }
        assertThat(OptionRomTestSupport.check(image)).isEmpty();
    }
}
