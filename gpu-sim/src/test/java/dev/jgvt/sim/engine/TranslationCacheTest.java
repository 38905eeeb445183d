package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.sim.GpuAddressSpace;
import dev.jgvt.sim.GpuAddressWalker;
import dev.jgvt.sim.GpuFault;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The command streamers' translation caches: used (a workload's accesses to one page walk once), and never stale
 * where it matters: a PTE rewritten between workloads, a GGTT write, a DMA unmap and freed host memory are seen at
 * the next access, a PTE the workload itself rewrote after its next flush.
 */
final class TranslationCacheTest {
    private static final long RING = 0x10_0000;
    private static final long DATA = 0x20_0000;
    private static final long PAGE_TABLE_WINDOW = 0x30_0000;
    private static final long X = 0x7_0000_3000L;

    private final GpuMemory mem = new GpuMemory();
    private final GpuMemory.Ring ring = mem.ring(RING, 4096, 0);
    private final GpuMemory.Surface ggtt = mem.ggtt(DATA, 1);
    private final GpuMemory.Surface x = mem.ppgtt(X, 1);

    @AfterEach
    void close() {
        mem.close();
    }

    @Test
    void aWorkloadsAccessesToOnePageWalkTheTablesOnce() {
        for (int i = 0; i < 64; i++) {
            ring.emit(Cmd.sdi(false, X + 8L * i, i));
        }
        GpuAddressWalker walker = mem.engines.streamer(Engine.BCS).walker;
        long misses = walker.cacheMisses();
        assertThat(ring.run(Engine.BCS, 0).completed()).isTrue();
        assertThat(x.getInt(8 * 63)).isEqualTo(63);
        assertThat(walker.cacheMisses() - misses).as("the ring page and the data page").isEqualTo(2);
        assertThat(walker.cacheHits()).as("64 headers, 64 command bodies, 64 stores").isGreaterThanOrEqualTo(3 * 64 - 2);
    }

    @Test
    void aPteRewrittenBetweenWorkloadsIsWalkedAgain() {
        HostBuffer other = mem.gpu.allocate(4096, "rebound page");
        ring.emit(Cmd.sdi(false, X + 0x10, 1));
        assertThat(ring.run(Engine.BCS, 0).completed()).isTrue();
        mem.setPte(X, other.deviceAddress() | 3); // the driver rebinds X between the workloads
        int head = ring.tail;
        ring.emit(Cmd.sdi(false, X + 0x10, 2));
        assertThat(ring.run(Engine.BCS, head).completed()).isTrue();
        assertThat(x.getInt(0x10)).as("the old page keeps the first store").isEqualTo(1);
        assertThat(other.segment().get(GpuMemory.INT, 0x10)).as("the second lands in the new page").isEqualTo(2);
    }

    @Test
    void aPageDirectoryEntryRewrittenBetweenWorkloadsIsWalkedAgain() {
        HostBuffer other = mem.gpu.allocate(4096, "rebound page");
        HostBuffer table = mem.gpu.allocate(4096, "new page table");
        table.segment().set(GpuMemory.LONG, ((X >>> 12) & 0x1FF) * 8, other.deviceAddress() | 3);
        ring.emit(Cmd.sdi(false, X + 0x20, 1));
        assertThat(ring.run(Engine.BCS, 0).completed()).isTrue();
        mem.setPde(X, table.deviceAddress() | 3); // the whole 2 MiB region moves to another page table
        int head = ring.tail;
        ring.emit(Cmd.sdi(false, X + 0x20, 2));
        assertThat(ring.run(Engine.BCS, head).completed()).isTrue();
        assertThat(x.getInt(0x20)).isEqualTo(1);
        assertThat(other.segment().get(GpuMemory.INT, 0x20)).isEqualTo(2);
    }

    @Test
    void aPteTheWorkloadRewritesItselfIsSeenAfterItsFlush() {
        HostBuffer other = mem.gpu.allocate(4096, "rebound page");
        long entry = other.deviceAddress() | 3;
        mem.gpu.ggttWrite((int) (PAGE_TABLE_WINDOW >>> 12), mem.pageTableOf(X) | 3); // the PT, reachable by the GPU
        long pte = PAGE_TABLE_WINDOW + ((X >>> 12) & 0x1FF) * 8;
        ring.emit(Cmd.sdi(false, X, 1))
                .emit(Cmd.sdi(true, pte, (int) entry, (int) (entry >>> 32)))
                .emit(Cmd.flushDwNotifyOnly())
                .emit(Cmd.sdi(false, X, 2));
        assertThat(ring.run(Engine.BCS, 0).completed()).isTrue();
        assertThat(x.getInt(0)).isEqualTo(1);
        assertThat(other.segment().get(GpuMemory.INT, 0)).isEqualTo(2);
    }

    @Test
    void aGgttWriteIsSeenAtTheNextAccess() {
        GpuAddressWalker walker = mem.gpu.walker().withTranslationCache();
        ggtt.setInt(0, 0x1111);
        assertThat(walker.readInt(GpuAddressSpace.GGTT, DATA)).isEqualTo(0x1111);
        HostBuffer other = mem.gpu.allocate(4096, "other");
        other.segment().set(GpuMemory.INT, 0, 0x2222);
        mem.gpu.ggttWrite((int) (DATA >>> 12), other.deviceAddress() | 1);
        assertThat(walker.readInt(GpuAddressSpace.GGTT, DATA)).isEqualTo(0x2222);
        mem.gpu.ggttWrite((int) (DATA >>> 12), 0);
        assertThatThrownBy(() -> walker.readInt(GpuAddressSpace.GGTT, DATA)).isInstanceOf(GpuFault.class);
    }

    @Test
    void aDmaUnmapAndFreedHostMemoryAreSeenAtTheNextAccess() {
        GpuAddressWalker walker = mem.gpu.walker().withTranslationCache();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment guestPage = arena.allocate(4096, 4096);
            guestPage.set(GpuMemory.INT, 4, 0x3333);
            long device = mem.gpu.dmaMap(guestPage);
            long y = X + 0x1000;
            mem.ppgtt(y, 1);
            mem.setPte(y, device | 3);
            assertThat(walker.readInt(mem.ppgtt, y + 4)).isEqualTo(0x3333);
            mem.gpu.dmaUnmap(device);
            assertThatThrownBy(() -> walker.readInt(mem.ppgtt, y + 4)).isInstanceOfSatisfying(GpuFault.class,
                    f -> assertThat(f.kind()).isEqualTo(GpuFault.Kind.UNMAPPED_DEVICE_ADDRESS));
        }
        HostBuffer page = mem.gpu.allocate(4096, "host page");
        long z = X + 0x2000;
        mem.ppgtt(z, 1);
        mem.setPte(z, page.deviceAddress() | 3);
        walker.writeInt(mem.ppgtt, z, 5);
        page.close();
        assertThatThrownBy(() -> walker.writeInt(mem.ppgtt, z, 6)).isInstanceOfSatisfying(GpuFault.class,
                f -> assertThat(f.kind()).isEqualTo(GpuFault.Kind.UNMAPPED_DEVICE_ADDRESS));
    }

    @Test
    void faultsAreNotCached() {
        GpuAddressWalker walker = mem.gpu.walker().withTranslationCache();
        long unmapped = X + 0x10_0000;
        assertThatThrownBy(() -> walker.readInt(mem.ppgtt, unmapped)).isInstanceOf(GpuFault.class);
        GpuMemory.Surface now = mem.ppgtt(unmapped, 1);
        now.setInt(0, 7);
        assertThat(walker.readInt(mem.ppgtt, unmapped)).isEqualTo(7);
    }
}
