package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class RingBufferTest {
    private static final long GPA = 0x10_0000;

    private final RamPlatform platform = new RamPlatform(4L << 20, 16L << 20, 1L << 28);

    @Test
    void blocksArePaddedToQwordsAndTheTailMoves() {
        RingBuffer ring = new RingBuffer(platform, 0x8000, GPA, 4096, 0);
        ring.emit(1, 2, 3);
        assertThat(ring.tail()).isEqualTo(16);
        assertThat(Ram.readInts(platform, GPA, 4)).containsExactly(1, 2, 3, 0);
        ring.emit(4, 5);
        assertThat(ring.tail()).isEqualTo(24);
        assertThat(Ram.readInts(platform, GPA + 16, 2)).containsExactly(4, 5);
    }

    @Test
    void aBlockThatWouldRunPastTheEndStartsAgainAtZeroAfterNoops() {
        fill(0xDEAD_BEEF);
        RingBuffer ring = new RingBuffer(platform, 0x8000, GPA, 4096, 4096 - 16);
        ring.emit(7, 7, 7, 7, 7, 7);
        assertThat(ring.tail()).isEqualTo(24);
        assertThat(Ram.readInts(platform, GPA + 4096 - 16, 4)).containsOnly(0);
        assertThat(Ram.readInts(platform, GPA, 7)).containsExactly(7, 7, 7, 7, 7, 7, 0xDEAD_BEEF);
        assertThat(ring.head()).isEqualTo(4096 - 16);
    }

    @Test
    void aBlockEndingExactlyAtTheEndWrapsTheTailToZero() {
        RingBuffer ring = new RingBuffer(platform, 0x8000, GPA, 4096, 4096 - 16);
        ring.consumed(4096 - 16);
        ring.emit(1, 2, 3, 4);
        assertThat(ring.tail()).isZero();
    }

    @Test
    void theWriterNeverOvertakesTheHead() {
        RingBuffer ring = new RingBuffer(platform, 0x8000, GPA, 4096, 0);
        assertThat(ring.space()).isEqualTo(4096 - 8);
        ring.emit(new int[1022]);
        assertThat(ring.space()).isZero();
        assertThatThrownBy(() -> ring.emit(1)).isInstanceOf(GuestException.class).hasMessageContaining("full");
        ring.consumed(ring.tail());
        assertThat(ring.space()).isEqualTo(4096 - 8);
        // 8 bytes left before the end, a 16-byte block: 8 bytes of padding + 16 must fit
        ring.emit(1, 2, 3, 4);
        assertThat(ring.tail()).isEqualTo(16);
    }

    @Test
    void badGeometryIsRefused() {
        assertThatThrownBy(() -> new RingBuffer(platform, 0x8000, GPA, 1000, 0)).hasMessageContaining("page aligned");
        assertThatThrownBy(() -> new RingBuffer(platform, 0x8000, GPA, 4096, 12)).hasMessageContaining("qword");
    }

    private void fill(int value) {
        int[] page = new int[1024];
        java.util.Arrays.fill(page, value);
        Ram.writeInts(platform, GPA, page);
    }
}
