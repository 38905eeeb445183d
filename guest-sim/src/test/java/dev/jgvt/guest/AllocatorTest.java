package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

final class AllocatorTest {
    static LongStream seeds() {
        return LongStream.of(Long.getLong("gvt.seed", 1L), 2, 3, 42, 0xC0FFEE);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void allocationsStayInsideTheBalloonAndNeverOverlap(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long base = 0x0800_0000L;
        long size = 64L << 20;
        GmAllocator gm = new GmAllocator(base, size);
        List<long[]> live = new ArrayList<>();
        for (int step = 0; step < 2000; step++) {
            if (!live.isEmpty() && random.nextInt(3) == 0) {
                long[] victim = live.remove(random.nextInt(live.size()));
                gm.free(victim[0], victim[1]);
                continue;
            }
            long bytes = (1 + random.nextInt(64)) * 4096L;
            long alignment = 4096L << random.nextInt(5);
            long address;
            try {
                address = gm.allocate(bytes, alignment);
            } catch (GuestException full) {
                continue;
            }
            assertThat(address % alignment).as("seed %d: alignment", seed).isZero();
            assertThat(gm.owns(address, bytes)).as("seed %d: inside the balloon", seed).isTrue();
            for (long[] other : live) {
                boolean disjoint = address + bytes <= other[0] || other[0] + other[1] <= address;
                assertThat(disjoint).as("seed %d: 0x%x overlaps 0x%x", seed, address, other[0]).isTrue();
            }
            live.add(new long[] {address, bytes});
        }
        live.forEach(a -> gm.free(a[0], a[1]));
        assertThat(gm.freeBytes()).as("seed %d: everything returned and merged", seed).isEqualTo(size);
        assertThat(gm.allocate(size, 4096)).isEqualTo(base);
    }

    @Test
    void rejectsDoubleFreeAndForeignRanges() {
        GmAllocator gm = new GmAllocator(0x10000, 0x10000);
        long a = gm.allocate(4096, 4096);
        gm.free(a, 4096);
        assertThatThrownBy(() -> gm.free(a, 4096)).hasMessageContaining("double free");
        assertThatThrownBy(() -> gm.free(0x30000, 4096)).hasMessageContaining("outside");
        assertThatThrownBy(() -> gm.allocate(0x20000, 4096)).isInstanceOf(GuestException.class)
                .hasMessageContaining("out of graphics memory");
    }

    @Test
    void framesComeFromAboveTheReservedRegion() {
        FrameAllocator frames = new FrameAllocator(1 << 20, 4 << 20);
        long first = frames.frame();
        assertThat(first).isEqualTo(1 << 20);
        long huge = frames.run(2 << 20, 2 << 20);
        assertThat(huge % (2 << 20)).isZero();
        frames.free(first);
        assertThat(frames.frame()).isEqualTo(first);
        assertThatThrownBy(() -> frames.run(4 << 20, 4096)).hasMessageContaining("out of guest RAM");
    }
}
