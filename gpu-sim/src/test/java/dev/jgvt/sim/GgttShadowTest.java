package dev.jgvt.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.jgvt.core.gtt.PpgttConfig;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class GgttShadowTest {
    private static final long AP_INDEX = (16L << 20) >>> 12;
    private static final long HIDDEN_INDEX = (128L << 20) >>> 12;
    private final Rig rig = new Rig(PpgttConfig.STRICT);

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void entryInsideTheApertureMapsTheGuestFrame() {
        long gfn = rig.guest.allocFrame();
        rig.guest.frameView(gfn).set(TestGuest.LONG, 0x40, 0x1122_3344_5566_7788L);
        rig.ggtt.write(AP_INDEX * 8, 8, gfn << 12 | 0x3);

        assertThat(rig.ggtt.read(AP_INDEX * 8, 8)).isEqualTo(gfn << 12 | 0x3);
        assertThat(rig.gpu.walker().readDevice(rig.gpu.walker().translate(GpuAddressSpace.GGTT, (AP_INDEX << 12) + 0x40)))
                .isEqualTo(0x1122_3344_5566_7788L);
        long host = rig.gpu.ggttRead((int) AP_INDEX);
        assertThat(host & 0xFFF).isEqualTo(0x3);
        assertThat(rig.guest.pinnedIn(gfn, 1)).isEqualTo(1);
        assertThat(rig.pins.refCount(gfn)).isEqualTo(1);
    }

    @Test
    void gpuWritesThroughTheGgttLandInGuestRam() {
        long gfn = rig.guest.allocFrame();
        rig.ggtt.write(HIDDEN_INDEX * 8 + 8, 8, gfn << 12 | 1);
        rig.gpu.walker().writeInt(GpuAddressSpace.GGTT, (HIDDEN_INDEX + 1) << 12 | 0x10, 0xABCD);
        assertThat(rig.guest.frameView(gfn).get(TestGuest.INT, 0x10)).isEqualTo(0xABCD);
    }

    @Test
    void gmaToGpaUsesTheGuestEntry() {
        long gfn = rig.guest.allocFrame();
        rig.ggtt.write((HIDDEN_INDEX + 3) * 8, 8, gfn << 12 | 1);
        assertThat(rig.ggtt.gmaToGpa((HIDDEN_INDEX + 3) << 12 | 0x42)).isEqualTo(gfn << 12 | 0x42);
        assertThat(rig.ggtt.gmaToGpa((HIDDEN_INDEX + 4) << 12)).isEqualTo(-1);
        assertThat(rig.ggtt.gmaToGpa(4096)).as("outside the partition").isEqualTo(-1);
        assertThat(rig.ggtt.gmaToGpa(-1)).isEqualTo(-1);
    }

    @Test
    void writesOutsideThePartitionAreIgnoredAndReadZero() {
        long gfn = rig.guest.allocFrame();
        long before = rig.gpu.ggttRead(5);
        rig.ggtt.write(5 * 8, 8, gfn << 12 | 1);
        rig.ggtt.write((AP_INDEX + 4096) * 8, 8, gfn << 12 | 1);
        assertThat(rig.gpu.ggttRead(5)).isEqualTo(before);
        assertThat(rig.ggtt.read(5 * 8, 8)).isZero();
        assertThat(rig.ggtt.ignoredWrites()).isEqualTo(2);
        assertThat(rig.ggtt.shadowedWrites()).isZero();
        assertThat(rig.guest.pinnedTotal()).isZero();
    }

    @Test
    void malformedAccessesAreIgnored() {
        assertThatCode(() -> {
            rig.ggtt.write(AP_INDEX * 8 + 2, 4, 1);
            rig.ggtt.write(AP_INDEX * 8, 2, 1);
            rig.ggtt.write(-8, 8, 1);
            rig.ggtt.write(Long.MAX_VALUE - 7, 8, 1);
            assertThat(rig.ggtt.read(AP_INDEX * 8 + 4, 8)).isZero();
            assertThat(rig.ggtt.read(AP_INDEX * 8, 1)).isZero();
            assertThat(rig.ggtt.read(1L << 40, 8)).isZero();
        }).doesNotThrowAnyException();
        assertThat(rig.ggtt.ignoredWrites()).isEqualTo(4);
        assertThat(rig.ggtt.shadowedWrites()).isZero();
    }

    @Test
    void shadowedWritesCountEntriesNotHalves() {
        long gfn = rig.guest.allocFrame();
        rig.ggtt.write(AP_INDEX * 8, 8, gfn << 12 | 1);
        rig.ggtt.write((AP_INDEX + 1) * 8, 4, gfn << 12 | 1);
        assertThat(rig.ggtt.shadowedWrites()).as("one whole entry, one half").isEqualTo(1);
        rig.ggtt.write((AP_INDEX + 1) * 8 + 4, 4, 0);
        assertThat(rig.ggtt.shadowedWrites()).as("the second half completes the entry").isEqualTo(2);
    }

    @Test
    void halfWritesArePairedBeforeShadowing() {
        long gfn = rig.guest.allocFrame() | (1L << 20); // a frame above 4 GiB needs the high half
        long value = gfn << 12 | 1;
        long offset = AP_INDEX * 8;
        rig.ggtt.write(offset, 4, value & 0xFFFF_FFFFL);
        assertThat(rig.gpu.ggttRead((int) AP_INDEX) & 1).as("parked: not present").isZero();
        assertThat(rig.ggtt.read(offset, 4)).isEqualTo(value & 0xFFFF_FFFFL);
        rig.ggtt.write(offset, 4, value & 0xFFFF_FFFFL); // repeated low half
        assertThat(rig.gpu.ggttRead((int) AP_INDEX) & 1).isZero();
        rig.ggtt.write(offset + 4, 4, value >>> 32);
        assertThat(rig.ggtt.read(offset, 8)).isEqualTo(value);
        // the frame is outside 64 MiB of guest RAM: the completed entry maps scratch, present
        long host = rig.gpu.ggttRead((int) AP_INDEX);
        assertThat(host & 1).isEqualTo(1);
        assertThat(rig.scratch.contains(host & ~0xFFFL)).isTrue();
        assertThat(rig.ggtt.invalidFrames()).isEqualTo(1);

        long good = rig.guest.allocFrame();
        rig.ggtt.write(offset + 4, 4, 0); // high first this time
        rig.ggtt.write(offset, 4, good << 12 | 1);
        assertThat(rig.gpu.walker().translate(GpuAddressSpace.GGTT, AP_INDEX << 12) & ~0xFFFL)
                .isEqualTo(rig.pins.dmaAddress(good));
    }

    @Test
    void rewritingAnEntryMovesThePinAndNotPresentMapsScratch() {
        long a = rig.guest.allocFrame();
        long b = rig.guest.allocFrame();
        rig.ggtt.write(AP_INDEX * 8, 8, a << 12 | 1);
        rig.ggtt.write(AP_INDEX * 8, 8, b << 12 | 1);
        assertThat(rig.pins.refCount(a)).isZero();
        assertThat(rig.pins.refCount(b)).isEqualTo(1);
        rig.ggtt.write(AP_INDEX * 8, 8, b << 12);
        long host = rig.gpu.ggttRead((int) AP_INDEX);
        assertThat(host & 1).isZero();
        assertThat(rig.scratch.contains(host)).isTrue();
        assertThat(rig.pins.refCount(b)).isZero();
    }

    @Test
    void resetRestoresScratchAndReleasesPins() {
        for (int i = 0; i < 64; i++) {
            rig.ggtt.write((AP_INDEX + i) * 8, 8, rig.guest.allocFrame() << 12 | 1);
            rig.ggtt.write((HIDDEN_INDEX + i) * 8, 8, rig.guest.allocFrame() << 12 | 1);
        }
        assertThat(rig.guest.pinnedTotal()).isEqualTo(128);
        rig.ggtt.reset();
        assertThat(rig.guest.pinnedTotal()).isZero();
        for (int i = 0; i < 64; i++) {
            assertThat(rig.ggtt.read((AP_INDEX + i) * 8, 8)).isZero();
            long host = rig.gpu.ggttRead((int) (HIDDEN_INDEX + i));
            assertThat(host & 1).isZero();
            assertThat(rig.scratch.contains(host)).isTrue();
        }
    }

    @Test
    void dmaUnmapPointsEntriesAtScratchAndUnpins() {
        long gfn = rig.guest.allocFrame();
        rig.ggtt.write(AP_INDEX * 8, 8, gfn << 12 | 3);
        rig.unmap(gfn, 1);
        long host = rig.gpu.ggttRead((int) AP_INDEX);
        assertThat(rig.scratch.contains(host & ~0xFFFL)).isTrue();
        assertThat(host & 0xFFF).isEqualTo(3);
        assertThat(rig.ggtt.read(AP_INDEX * 8, 8)).as("the guest's value is kept").isEqualTo(gfn << 12 | 3);
        // rewriting it now hits unbacked memory: scratch again, nothing pinned
        rig.ggtt.write(AP_INDEX * 8, 8, gfn << 12 | 1);
        assertThat(rig.guest.pinnedTotal()).isZero();
        MemorySegment dst = MemorySegment.ofArray(new long[1]);
        rig.gpu.walker().read(GpuAddressSpace.GGTT, AP_INDEX << 12, dst);
        assertThat(dst.getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, 0)).isZero();
    }
}
