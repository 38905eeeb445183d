package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class PvInfoTest {
    @Test
    void readsBallooningInfo() {
        RamPlatform platform = new RamPlatform(4096, 16L << 20, 1L << 28);
        platform.mmio.put(0x78000L, 0x4776544776544776L);
        platform.mmio.put(0x78008L, 1L);
        platform.mmio.put(0x7800CL, 3L);
        platform.mmio.put(0x78010L, (long) (PvInfo.CAP_FULL_PPGTT | PvInfo.CAP_HUGE_GTT));
        platform.mmio.put(0x78040L, 0x0800_0000L);
        platform.mmio.put(0x78044L, 0x0400_0000L);
        platform.mmio.put(0x78048L, 0x4000_0000L);
        platform.mmio.put(0x7804CL, 0x1800_0000L);
        platform.mmio.put(0x78050L, 4L);

        PvInfo info = PvInfo.read(platform);
        assertThat(info).isEqualTo(new PvInfo(3, PvInfo.CAP_FULL_PPGTT | PvInfo.CAP_HUGE_GTT,
                0x0800_0000L, 0x0400_0000L, 0x4000_0000L, 0x1800_0000L, 4));
        assertThat(info.has(PvInfo.CAP_FULL_PPGTT)).isTrue();
        assertThat(info.has(PvInfo.CAP_HWSP_EMULATION)).isFalse();
    }

    @Test
    void refusesABareMetalGpu() {
        RamPlatform platform = new RamPlatform(4096, 16L << 20, 1L << 28);
        assertThatThrownBy(() -> PvInfo.read(platform)).hasMessageContaining("not a vGPU");
        platform.mmio.put(0x78000L, 0x4776544776544776L);
        platform.mmio.put(0x78008L, 2L);
        assertThatThrownBy(() -> PvInfo.read(platform)).hasMessageContaining("version 2.0 is not 1.x");
    }
}
