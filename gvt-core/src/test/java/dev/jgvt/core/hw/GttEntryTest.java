package dev.jgvt.core.hw;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

final class GttEntryTest {
    @Test
    void decodesFramesPerPageSize() {
        long e = 0x0000_3FFF_FFFF_F000L | 0xFFF | 1L << 52;
        assertThat(GttEntry.frame(e)).isEqualTo(0x3_FFFF_FFFFL);
        assertThat(GttEntry.frame64k(0x1_2345_6000L)).isEqualTo(0x1_2345_0000L >>> 12);
        assertThat(GttEntry.frame2m(0x1_2345_6000L)).isEqualTo(0x1_2340_0000L >>> 12);
        assertThat(GttEntry.present(e)).isTrue();
        assertThat(GttEntry.present(e & ~1L)).isFalse();
    }

    @Test
    void indexesPerLevel() {
        long gma = 0x1FFL << 39 | 0x2L << 30 | 0x3L << 21 | 0x4L << 12 | 0x567;
        assertThat(GttEntry.index(gma, 4)).isEqualTo(0x1FF);
        assertThat(GttEntry.index(gma, 3)).isEqualTo(2);
        assertThat(GttEntry.index(gma, 2)).isEqualTo(3);
        assertThat(GttEntry.index(gma, 1)).isEqualTo(4);
        assertThat(GttEntry.ggttIndex(0xFFFF_F000L)).isEqualTo(0xFFFFF);
    }
}
