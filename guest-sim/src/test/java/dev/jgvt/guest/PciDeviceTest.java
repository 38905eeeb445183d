package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class PciDeviceTest {
    @Test
    void enumeratesSizesPlacesAndEnables() {
        RamPlatform platform = new RamPlatform(1 << 20, 16L << 20, 1L << 30);
        PciDevice device = PciDevice.enumerate(platform, 0xC000_0000L, 0xFEE0_0000, 0x41);

        assertThat(device.deviceId()).isEqualTo(0x1912);
        assertThat(device.bar0Size()).isEqualTo(16L << 20);
        assertThat(device.bar2Size()).isEqualTo(1L << 30);
        assertThat(device.bar0Base()).isEqualTo(0xC000_0000L);
        assertThat(device.bar2Base() % device.bar2Size()).isZero();
        assertThat(device.bar2Base()).isGreaterThanOrEqualTo(device.bar0Base() + device.bar0Size());
        assertThat(platform.configRead(0x10, 4) & ~0xFL).isEqualTo(0xC000_0000L);
        assertThat(platform.configRead(0x04, 2) & 0b110).isEqualTo(0b110);
        assertThat(device.msiCapability()).isEqualTo(0xAC);
        assertThat(platform.configRead(0xAC + 4, 4)).isEqualTo(0xFEE0_0000L);
        assertThat(platform.configRead(0xAC + 8, 2)).isEqualTo(0x41);
        assertThat(platform.configRead(0xAC + 2, 2) & 1).isEqualTo(1);
    }

    @Test
    void refusesAnotherVendor() {
        RamPlatform platform = new RamPlatform(1 << 20, 16L << 20, 1L << 28);
        platform.config.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) 0x10DE);
        assertThatThrownBy(() -> PciDevice.enumerate(platform, 0xC000_0000L, 0, 0))
                .isInstanceOf(GuestException.class)
                .hasMessageContaining("vendor 0x10de");
    }

    @Test
    void refusesABarThatIsNotSixtyFourBit() {
        RamPlatform platform = new RamPlatform(1 << 20, 16L << 20, 1L << 28);
        platform.config.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0x10, 0);
        assertThatThrownBy(() -> PciDevice.sizeBar(platform, 0x10, false))
                .hasMessageContaining("not a 64-bit memory BAR");
    }
}
