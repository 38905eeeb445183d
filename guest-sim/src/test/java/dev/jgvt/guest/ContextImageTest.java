package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

final class ContextImageTest {
    @ParameterizedTest
    @EnumSource(GuestEngine.class)
    void ringStateHasEachRegisterAndValueAtItsDword(GuestEngine engine) {
        int base = engine.base();
        long pml4 = 0x1_2345_6000L;
        int[] image = ContextImage.registerState(engine, 0x0080_3000L, 2 * 4096, 0x1F8, 0x40, new long[] {pml4, 0, 0, 0});
        assertThat(image).hasSize(1024);
        assertThat(image[0]).isZero();
        int count = engine == GuestEngine.RCS ? 14 : 11;
        assertThat(image[1]).isEqualTo(0x1100_1000 | (count * 2 - 1));
        assertThat(pair(image, 2)).containsExactly(base + 0x244, ((9 << 16) | 8));
        assertThat(pair(image, 4)).containsExactly(base + 0x34, 0x1F8);
        assertThat(pair(image, 6)).containsExactly(base + 0x30, 0x40);
        assertThat(pair(image, 8)).containsExactly(base + 0x38, 0x0080_3000);
        assertThat(pair(image, 10)).containsExactly(base + 0x3C, (1 << 12) | 1);
        assertThat(image[12]).isEqualTo(base + 0x168);
        assertThat(image[22]).isEqualTo(base + 0x118);
        if (engine == GuestEngine.RCS) {
            assertThat(image[24]).isEqualTo(base + 0x1C0);
            assertThat(image[28]).isEqualTo(base + 0x1C8);
        } else {
            assertThat(image[24]).isZero();
            assertThat(image[28]).isZero();
        }
        assertThat(image[33]).isEqualTo(0x1100_1000 | 17);
        assertThat(pair(image, 34)).containsExactly(base + 0x3A8, 0);
        assertThat(pair(image, 36)).containsExactly(base + 0x28C, 0);
        assertThat(pair(image, 38)).containsExactly(base + 0x288, 0);
        assertThat(pair(image, 40)).containsExactly(base + 0x284, 0);
        assertThat(pair(image, 42)).containsExactly(base + 0x280, 0);
        assertThat(pair(image, 44)).containsExactly(base + 0x27C, 0);
        assertThat(pair(image, 46)).containsExactly(base + 0x278, 0);
        assertThat(pair(image, 48)).containsExactly(base + 0x274, 1);
        assertThat(pair(image, 50)).containsExactly(base + 0x270, 0x2345_6000);
        for (int i = 52; i < 1024; i++) {
            assertThat(image[i]).as("dword %d", i).isZero();
        }
    }

    @Test
    void headAndTailKeepOnlyTheirOffsetBits() {
        int[] image = ContextImage.registerState(GuestEngine.BCS, 0x1000, 4096, 0xFFFF_FFFF, 0xFFFF_FFFF, new long[4]);
        assertThat(image[5]).isEqualTo(0x1F_FFFC);
        assertThat(image[7]).isEqualTo(0x1F_FFF8);
    }

    @Test
    void badRingsAreRefused() {
        assertThatThrownBy(() -> ContextImage.registerState(GuestEngine.RCS, 0x1800, 4096, 0, 0, new long[4]))
                .hasMessageContaining("page-aligned");
        assertThatThrownBy(() -> ContextImage.registerState(GuestEngine.RCS, 0x1000, 1000, 0, 0, new long[4]))
                .hasMessageContaining("ring size");
    }

    @Test
    void descriptorNamesA48BitPpgttContext() {
        long d = ContextImage.descriptor(0x0123_4000L, 0x00AB_0201, true);
        int low = (int) d;
        assertThat(low & 1).as("valid").isEqualTo(1);
        assertThat((low >>> 3) & 3).as("addressing mode").isEqualTo(3);
        assertThat(low & (1 << 5)).as("LLC coherent").isNotZero();
        assertThat(low & (1 << 8)).as("PPGTT").isNotZero();
        assertThat(low & 0xFFFF_F000).as("LRCA").isEqualTo(0x0123_4000);
        assertThat(low & 0xE06).as("reserved and force-restore bits").isZero();
        assertThat((int) (d >>> 32)).isEqualTo(0x00AB_0201);
        assertThatThrownBy(() -> ContextImage.descriptor(0x1234, 1, true)).hasMessageContaining("LRCA");
    }

    @Test
    void aLegacyContextHasFourDirectoriesAndAddressingModeOne() {
        long[] pdps = {0x11000, 0x1_2200_0000L, 0x33000, 0x44000};
        int[] image = ContextImage.registerState(GuestEngine.VECS, 0x2000, 4096, 0, 0, pdps);
        int base = GuestEngine.VECS.base();
        for (int n = 0; n < 4; n++) {
            int pair = 36 + (3 - n) * 4;
            assertThat(pair(image, pair)).as("PDP%d_UDW", n).containsExactly(base + 0x274 + 8 * n, (int) (pdps[n] >>> 32));
            assertThat(pair(image, pair + 2)).as("PDP%d_LDW", n).containsExactly(base + 0x270 + 8 * n, (int) pdps[n]);
        }
        long d = ContextImage.descriptor(0x5000, 9, false);
        assertThat(((int) d >>> 3) & 3).isEqualTo(1);
        assertThat((int) d & (1 << 8)).isNotZero();
        assertThatThrownBy(() -> ContextImage.registerState(GuestEngine.VECS, 0x2000, 4096, 0, 0, new long[3]))
                .hasMessageContaining("four");
    }

    private static int[] pair(int[] image, int at) {
        return new int[] {image[at], image[at + 1]};
    }
}
