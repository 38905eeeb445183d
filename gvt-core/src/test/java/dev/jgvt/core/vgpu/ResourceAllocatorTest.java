package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class ResourceAllocatorTest {
    private static final long MIB = 1 << 20;

    /** GVT-g's arithmetic written out independently of the allocator. */
    private static long expectedAvailable(long ggttMib, long apertureMib, int fences, long lowMib, long highMib, int typeFences) {
        long low = apertureMib - 128;
        long high = ggttMib - apertureMib - 384;
        long fence = fences - 4;
        return Math.min(Math.min(low / lowMib, high / highMib), fence / typeFences);
    }

    @Test
    void gen9CatalogueHasGvtSizesWeightsAndResolutions() {
        assertThat(VgpuType.GEN9).extracting(VgpuType::name).containsExactly("GVTg_V5_8", "GVTg_V5_4", "GVTg_V5_2", "GVTg_V5_1");
        assertThat(VgpuType.GEN9).extracting(t -> t.lowGm() / MIB).containsExactly(64L, 128L, 256L, 512L);
        assertThat(VgpuType.GEN9).extracting(t -> t.highGm() / MIB).containsExactly(384L, 512L, 1024L, 2048L);
        assertThat(VgpuType.GEN9).extracting(VgpuType::weight).containsExactly(2, 4, 8, 16);
        assertThat(VgpuType.GEN9).extracting(VgpuType::fences).containsOnly(4);
        assertThat(VgpuType.GEN9).extracting(t -> t.resolution().toString())
                .containsExactly("1024x768", "1920x1200", "1920x1200", "1920x1200");
    }

    @Test
    void defaultGeometryOffersAllTypesWithGvtAvailableInstances() {
        ResourceAllocator a = new ResourceAllocator(HostGeometry.defaults());
        assertThat(a.offeredTypes()).hasSize(4);
        for (VgpuType t : a.offeredTypes()) {
            assertThat(a.availableInstances(t)).as(t.name())
                    .isEqualTo(expectedAvailable(4096, 1024, 32, t.lowGm() / MIB, t.highGm() / MIB, t.fences()));
        }
        assertThat(a.availableInstances(VgpuType.byName("GVTg_V5_8").orElseThrow())).isEqualTo(7);
        assertThat(a.availableInstances(VgpuType.byName("GVTg_V5_1").orElseThrow())).isEqualTo(1);
    }

    @Test
    void smallApertureOffersOnlyTypesThatFit() {
        ResourceAllocator a = new ResourceAllocator(new HostGeometry(4L << 30, 256 * MIB, 32));
        assertThat(a.offeredTypes()).extracting(VgpuType::name).containsExactly("GVTg_V5_8", "GVTg_V5_4");
        assertThat(a.availableInstances(a.offeredTypes().get(0))).isEqualTo(2);
        assertThat(a.availableInstances(a.offeredTypes().get(1))).isEqualTo(1);
        assertThat(new ResourceAllocator(new HostGeometry(4L << 30, 128 * MIB, 32)).offeredTypes()).isEmpty();
    }

    @Test
    void partitionsAvoidTheHostReservationAndEachOther() {
        HostGeometry g = HostGeometry.defaults();
        ResourceAllocator a = new ResourceAllocator(g);
        VgpuType v8 = VgpuType.byName("GVTg_V5_8").orElseThrow();
        List<VgpuPartition> parts = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            parts.add(a.allocate(v8));
        }
        assertThatThrownBy(() -> a.allocate(v8)).isInstanceOf(GvtException.class)
                .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(ErrorCode.NO_SPACE))
                .hasMessageContaining("GVTg_V5_8");
        assertDisjoint(g, parts);
        assertThat(a.availableInstances(v8)).isZero();
    }

    @Test
    void destroyInTheMiddleLeavesAUsableHole() {
        ResourceAllocator a = new ResourceAllocator(HostGeometry.defaults());
        VgpuType v4 = VgpuType.byName("GVTg_V5_4").orElseThrow();
        VgpuPartition first = a.allocate(v4);
        VgpuPartition middle = a.allocate(v4);
        VgpuPartition last = a.allocate(v4);
        a.free(middle);
        VgpuPartition again = a.allocate(v4);
        assertThat(again.aperture()).isEqualTo(middle.aperture());
        assertThat(again.hidden()).isEqualTo(middle.hidden());
        assertThat(again.fenceBase()).isEqualTo(middle.fenceBase());
        assertDisjoint(HostGeometry.defaults(), List.of(first, again, last));
        // a hole two V5_8s fit into
        a.free(again);
        VgpuType v8 = VgpuType.byName("GVTg_V5_8").orElseThrow();
        VgpuPartition small = a.allocate(v8);
        assertThat(small.aperture().base()).isEqualTo(middle.aperture().base());
    }

    @Test
    void fencesRunOutBeforeMemory() {
        ResourceAllocator a = new ResourceAllocator(new HostGeometry(4L << 30, 1L << 30, 12));
        VgpuType v8 = VgpuType.byName("GVTg_V5_8").orElseThrow();
        assertThat(a.availableInstances(v8)).isEqualTo(2);
        a.allocate(v8);
        a.allocate(v8);
        assertThatThrownBy(() -> a.allocate(v8)).hasMessageContaining("fences");
        // nothing leaked by the failed attempt
        assertThat(a.availableInstances(v8)).isZero();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 42, 20261121})
    void randomCreateDestroyKeepsPartitionsDisjointAndAccountingExact(long seed) {
        System.out.println("ResourceAllocatorTest seed " + seed);
        Random random = new Random(seed);
        HostGeometry g = HostGeometry.defaults();
        ResourceAllocator a = new ResourceAllocator(g);
        List<VgpuPartition> live = new ArrayList<>();
        for (int step = 0; step < 500; step++) {
            if (!live.isEmpty() && random.nextInt(3) == 0) {
                a.free(live.remove(random.nextInt(live.size())));
            } else {
                VgpuType t = VgpuType.GEN9.get(random.nextInt(4));
                try {
                    live.add(a.allocate(t));
                } catch (GvtException e) {
                    assertThat(e.code()).isEqualTo(ErrorCode.NO_SPACE);
                }
            }
            assertDisjoint(g, live);
            long lowUsed = live.stream().mapToLong(p -> p.aperture().size()).sum();
            VgpuType v8 = VgpuType.GEN9.get(0);
            long highUsed = live.stream().mapToLong(p -> p.hidden().size()).sum();
            long fencesUsed = live.stream().mapToLong(VgpuPartition::fenceCount).sum();
            long expected = Math.min(Math.min((g.guestLowGm().size() - lowUsed) / v8.lowGm(),
                    (g.guestHighGm().size() - highUsed) / v8.highGm()), (28 - fencesUsed) / 4);
            assertThat(a.availableInstances(v8)).isEqualTo(expected);
        }
    }

    private static void assertDisjoint(HostGeometry g, List<VgpuPartition> parts) {
        for (int i = 0; i < parts.size(); i++) {
            VgpuPartition p = parts.get(i);
            assertThat(p.aperture().base()).isGreaterThanOrEqualTo(128 * MIB);
            assertThat(p.aperture().end()).isLessThanOrEqualTo(g.apertureSize());
            assertThat(p.hidden().base()).isGreaterThanOrEqualTo(g.apertureSize() + 384 * MIB);
            assertThat(p.hidden().end()).isLessThanOrEqualTo(g.ggttSize());
            assertThat(p.fenceBase()).isGreaterThanOrEqualTo(4);
            assertThat(p.fenceBase() + p.fenceCount()).isLessThanOrEqualTo(g.fenceCount());
            for (int j = i + 1; j < parts.size(); j++) {
                VgpuPartition q = parts.get(j);
                assertThat(overlap(p.aperture(), q.aperture())).isFalse();
                assertThat(overlap(p.hidden(), q.hidden())).isFalse();
                assertThat(p.fenceBase() + p.fenceCount() <= q.fenceBase() || q.fenceBase() + q.fenceCount() <= p.fenceBase())
                        .isTrue();
            }
        }
    }

    private static boolean overlap(GmRange a, GmRange b) {
        return a.base() < b.end() && b.base() < a.end();
    }

    @Test
    void badGeometryIsRejected() {
        assertThatThrownBy(() -> new HostGeometry(4L << 30, 3L << 28, 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HostGeometry(1L << 30, 2L << 30, 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HostGeometry(8L << 30, 1L << 30, 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HostGeometry(4L << 30, 1L << 30, 33)).isInstanceOf(IllegalArgumentException.class);
    }
}
