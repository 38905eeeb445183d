package dev.jgvt.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class SimGpuTest {
    private static final ValueLayout.OfLong LONG = TestGuest.LONG;
    private final SimGpu gpu = new SimGpu(new SimGpuConfig(1 << 12, 1 << 16, 16L << 20, true));
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        gpu.close();
        arena.close();
    }

    @Test
    void gen9HasA4GiBGgtt() {
        assertThat(SimGpuConfig.GEN9.ggttEntries()).isEqualTo(1 << 20);
    }

    @Test
    void ggttEntriesReadBackAndIndexIsChecked() {
        gpu.ggttWrite(5, 0x1234_5001L);
        assertThat(gpu.ggttRead(5)).isEqualTo(0x1234_5001L);
        assertThatThrownBy(() -> gpu.ggttWrite(1 << 12, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> gpu.ggttRead(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ggttTranslationReachesTheMappedPageAndFaultsOtherwise() {
        MemorySegment page = arena.allocate(4096, 4096);
        page.set(LONG, 0x18, 0xCAFE_F00DL);
        long dma = gpu.dmaMap(page);
        assertThat(dma & 0xFFF).isZero();
        gpu.ggttWrite(3, dma | 1);
        GpuAddressWalker w = gpu.walker();
        assertThat(w.translate(GpuAddressSpace.GGTT, 3 * 4096 + 0x18)).isEqualTo(dma + 0x18);
        MemorySegment dst = arena.allocate(8);
        w.read(GpuAddressSpace.GGTT, 3 * 4096 + 0x18, dst);
        assertThat(dst.get(LONG, 0)).isEqualTo(0xCAFE_F00DL);

        assertFault(() -> w.translate(GpuAddressSpace.GGTT, 4 * 4096), GpuFault.Kind.NOT_PRESENT, 0);
        assertFault(() -> w.translate(GpuAddressSpace.GGTT, (1L << 12) * 4096), GpuFault.Kind.OUT_OF_RANGE, 0);
        gpu.dmaUnmap(dma);
        assertFault(() -> w.read(GpuAddressSpace.GGTT, 3 * 4096, dst), GpuFault.Kind.UNMAPPED_DEVICE_ADDRESS, 0);
        assertThatThrownBy(() -> gpu.dmaUnmap(dma)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void dmaMapAcceptsOnly4KiBAnd2MiBAndAlignsHugeMappings() {
        assertThatThrownBy(() -> gpu.dmaMap(arena.allocate(8192, 4096))).isInstanceOf(IllegalArgumentException.class);
        gpu.dmaMap(arena.allocate(4096, 4096));
        long huge = gpu.dmaMap(arena.allocate(2 << 20, 4096));
        assertThat(huge & ((2 << 20) - 1)).isZero();
        assertThat(gpu.isDmaMapped(huge + (2 << 20) - 1)).isTrue();
        gpu.dmaUnmap(huge);
        assertThat(gpu.isDmaMapped(huge)).isFalse();
    }

    @Test
    void deviceSpaceAndHostMemoryAreBounded() {
        SimGpu tiny = new SimGpu(new SimGpuConfig(16, 8, 8192, false));
        try {
            tiny.allocate(4096, "a");
            tiny.allocate(4096, "b");
            assertThatThrownBy(() -> tiny.allocate(4096, "c")).isInstanceOf(GvtException.class)
                    .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(ErrorCode.NO_SPACE));
            List<Long> mapped = new ArrayList<>();
            assertThatThrownBy(() -> {
                for (int i = 0; i < 10; i++) {
                    mapped.add(tiny.dmaMap(arena.allocate(4096, 4096)));
                }
            }).isInstanceOf(GvtException.class);
            assertThat(mapped).hasSize(5);
            assertThatThrownBy(() -> tiny.dmaMap(arena.allocate(2 << 20, 4096))).isInstanceOf(IllegalArgumentException.class);
        } finally {
            tiny.close();
        }
    }

    @Test
    void hostBuffersAreZeroedRecycledAndFaultAfterClose() {
        HostBuffer b = gpu.allocate(4096, "t");
        b.segment().set(LONG, 0, -1L);
        long addr = b.deviceAddress();
        assertThat(gpu.walker().readDevice(addr)).isEqualTo(-1L);
        b.close();
        b.close();
        assertFault(() -> gpu.walker().readDevice(addr), GpuFault.Kind.UNMAPPED_DEVICE_ADDRESS, 0);
        HostBuffer again = gpu.allocate(4096, "t");
        assertThat(again.segment().get(LONG, 0)).isZero();
        assertThat(gpu.hostBytesInUse()).isEqualTo(4096);
    }

    @Test
    void fourLevelWalkWith4KiB64KiBAnd2MiBPages() {
        HostBuffer pml4 = gpu.allocate(4096, "pml4");
        HostBuffer pdp = gpu.allocate(4096, "pdp");
        HostBuffer pd = gpu.allocate(4096, "pd");
        HostBuffer pt = gpu.allocate(4096, "pt");
        HostBuffer pt64 = gpu.allocate(4096, "pt64");
        set(pml4, 1, pdp.deviceAddress() | 3);
        set(pdp, 2, pd.deviceAddress() | 3);
        set(pd, 0, pt.deviceAddress() | 3);
        MemorySegment page = arena.allocate(4096, 4096);
        long dma = gpu.dmaMap(page);
        set(pt, 7, dma | 3);
        long va = 1L << 39 | 2L << 30 | 7L << 12 | 0x10;
        assertThat(gpu.walker().translate(new GpuAddressSpace.Ppgtt4(pml4.deviceAddress()), va)).isEqualTo(dma | 0x10);

        // 2 MiB page at PD index 1
        long huge = gpu.dmaMap(arena.allocate(2 << 20, 4096));
        set(pd, 1, huge | 3 | 1 << 7);
        long vaHuge = 1L << 39 | 2L << 30 | 1L << 21 | 0x12345;
        assertThat(gpu.walker().translate(new GpuAddressSpace.Ppgtt4(pml4.deviceAddress()), vaHuge)).isEqualTo(huge + 0x12345);

        // 64 KiB pages: PD index 2 with IPS; guest entry at PT index 16 covers PT indexes 16..31
        HostBuffer block = gpu.allocate(128 * 1024, "64k");
        long aligned = (block.deviceAddress() + 0xFFFF) & ~0xFFFFL;
        set(pd, 2, pt64.deviceAddress() | 3 | 1 << 11);
        set(pt64, 16, aligned | 3);
        long va64 = 1L << 39 | 2L << 30 | 2L << 21 | 17L << 12 | 0x234;
        assertThat(gpu.walker().translate(new GpuAddressSpace.Ppgtt4(pml4.deviceAddress()), va64))
                .isEqualTo(aligned + 0x1234);

        // 1 GiB page: rejected by the hardware walker
        set(pdp, 3, huge | 3 | 1 << 7);
        assertFault(() -> gpu.walker().translate(new GpuAddressSpace.Ppgtt4(pml4.deviceAddress()), 1L << 39 | 3L << 30),
                GpuFault.Kind.UNSUPPORTED_PAGE_SIZE, 3);
        assertFault(() -> gpu.walker().translate(new GpuAddressSpace.Ppgtt4(pml4.deviceAddress()), 1L << 48),
                GpuFault.Kind.OUT_OF_RANGE, 4);
        assertFault(() -> gpu.walker().translate(new GpuAddressSpace.Ppgtt4(pml4.deviceAddress()), 5L << 39),
                GpuFault.Kind.NOT_PRESENT, 4);
        assertFault(() -> gpu.walker().translate(new GpuAddressSpace.Ppgtt4(pml4.deviceAddress()), 1L << 39 | 2L << 30 | 8L << 12),
                GpuFault.Kind.NOT_PRESENT, 1);

        List<Long> tables = new ArrayList<>();
        List<Long> leaves = new ArrayList<>();
        List<GpuFault> faults = new ArrayList<>();
        gpu.walker().visitReachable(new GpuAddressSpace.Ppgtt4(pml4.deviceAddress()), 0, 0, new GpuAddressWalker.ReachVisitor() {
            @Override
            public void table(int level, long deviceAddress) {
                tables.add(deviceAddress);
            }

            @Override
            public void leaf(long deviceAddress, int size) {
                leaves.add(deviceAddress);
            }

            @Override
            public void fault(GpuFault fault) {
                faults.add(fault);
            }
        });
        assertThat(tables).containsExactlyInAnyOrder(pml4.deviceAddress(), pdp.deviceAddress(), pd.deviceAddress(),
                pt.deviceAddress(), pt64.deviceAddress());
        assertThat(leaves).containsExactlyInAnyOrder(dma, huge, aligned);
        assertThat(faults).extracting(GpuFault::kind).containsExactly(GpuFault.Kind.UNSUPPORTED_PAGE_SIZE);
    }

    @Test
    void legacyThreeLevelWalk() {
        HostBuffer pd = gpu.allocate(4096, "pd");
        HostBuffer pt = gpu.allocate(4096, "pt");
        set(pd, 4, pt.deviceAddress() | 3);
        long dma = gpu.dmaMap(arena.allocate(4096, 4096));
        set(pt, 9, dma | 3);
        GpuAddressSpace space = new GpuAddressSpace.Ppgtt3(new long[] {0, 0, pd.deviceAddress(), 0});
        assertThat(gpu.walker().translate(space, 2L << 30 | 4L << 21 | 9L << 12 | 5)).isEqualTo(dma | 5);
        assertFault(() -> gpu.walker().translate(space, 1L << 30), GpuFault.Kind.NOT_PRESENT, 3);
        assertFault(() -> gpu.walker().translate(space, 1L << 32), GpuFault.Kind.OUT_OF_RANGE, 3);
    }

    private static void set(HostBuffer table, int index, long entry) {
        table.segment().setAtIndex(LONG, index, entry);
    }

    private static void assertFault(Runnable r, GpuFault.Kind kind, int level) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(GpuFault.class, f -> {
            assertThat(f.kind()).isEqualTo(kind);
            assertThat(f.level()).isEqualTo(level);
        });
    }
}
