package dev.jgvt.core.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The context descriptor's bits and the ring context's dword positions (gvt-g.md §7.1-7.2). */
final class ContextImageTest {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void descriptorFields() {
        ContextDescriptor d = new ContextDescriptor(0x0000_002A_0012_3119L);
        assertThat(d.valid()).isTrue();
        assertThat(d.addressingMode()).isEqualTo(ContextDescriptor.LEGACY_64);
        assertThat(d.ppgtt()).isTrue();
        assertThat(d.lrca()).isEqualTo(0x0012_3000L);
        assertThat(d.contextId()).isEqualTo(42);
        assertThat(new ContextDescriptor(0x0012_3018L).ppgtt()).isFalse();
        assertThat(new ContextDescriptor(0x0012_3118L).valid()).isFalse();
    }

    @Test
    void ringContextValuesAreReadAtTheirDwords() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(RingContext.BYTES);
            page.set(DW, 3 * 4, 0x0009_0009);
            page.set(DW, 5 * 4, (3 << 21) | 0x1238); // wrap count above bit 20 ignored
            page.set(DW, 7 * 4, 0x2345);
            page.set(DW, 9 * 4, 0x0040_0123);
            page.set(DW, 11 * 4, (3 << 12) | 1);
            page.set(DW, 35 * 4, 77);
            for (int n = 0; n < 4; n++) {
                page.set(DW, (37 + 4 * (3 - n)) * 4L, 0x10 + n);
                page.set(DW, (39 + 4 * (3 - n)) * 4L, 0x1000 * (n + 1));
            }
            RingContext rc = RingContext.decode(page);
            assertThat(rc.ctxControl()).isEqualTo(0x0009_0009);
            assertThat(rc.headOffset()).isEqualTo(0x1238);
            assertThat(rc.tailOffset()).isEqualTo(0x2340);
            assertThat(rc.ringStart()).isEqualTo(0x0040_0000L);
            assertThat(rc.ringSize()).isEqualTo(4 * 4096);
            assertThat(rc.timestamp()).isEqualTo(77);
            for (int n = 0; n < 4; n++) {
                assertThat(rc.pdp(n)).isEqualTo((long) (0x10 + n) << 32 | 0x1000L * (n + 1));
            }
        }
    }
}
