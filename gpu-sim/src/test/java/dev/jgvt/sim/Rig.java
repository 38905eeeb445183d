package dev.jgvt.sim;

import dev.jgvt.core.gtt.GgttShadow;
import dev.jgvt.core.gtt.GttScratch;
import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.core.gtt.PpgttConfig;
import dev.jgvt.core.gtt.PpgttShadower;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.core.track.PageTrackRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** One vGPU's graphics-memory stack over a {@link SimGpu} and a {@link TestGuest}, wired as the core will. */
final class Rig implements AutoCloseable {
    static final VgpuPartition PARTITION = new VgpuPartition(new GmRange(16L << 20, 16L << 20), new GmRange(128L << 20, 32L << 20), 0, 4);
    static final SimGpuConfig SMALL = new SimGpuConfig(1 << 16, 1L << 22, 256L << 20, true);

    final SimGpu gpu;
    final TestGuest guest;
    final PinCache pins;
    final PageTrackRegistry registry;
    final GttScratch scratch;
    final GgttShadow ggtt;
    final PpgttShadower ppgtt;
    private final boolean ownsGpu;

    Rig(PpgttConfig config) {
        this(new SimGpu(SMALL), true, new TestGuest(64L << 20), config, 256, true);
    }

    Rig(SimGpu gpu, boolean ownsGpu, TestGuest guest, PpgttConfig config, int idleLimit, boolean tracking) {
        this(gpu, ownsGpu, guest, config, idleLimit, tracking, PARTITION);
    }

    Rig(SimGpu gpu, boolean ownsGpu, TestGuest guest, PpgttConfig config, int idleLimit, boolean tracking,
            VgpuPartition partition) {
        this.gpu = gpu;
        this.ownsGpu = ownsGpu;
        this.guest = guest;
        this.pins = new PinCache(guest, gpu, idleLimit);
        this.registry = new PageTrackRegistry(tracking ? Optional.of(guest) : Optional.empty());
        this.scratch = new GttScratch(gpu);
        this.ggtt = new GgttShadow(partition, gpu, pins, scratch);
        this.ppgtt = new PpgttShadower(guest, registry, pins, gpu, scratch, config);
        guest.onTrackedWrite(registry::dispatch);
    }

    /** The device-model side of a DMA unmap, then the guest RAM goes away; asserts contract 2. */
    void unmap(long gfn, long count) {
        pins.dmaUnmapped(gfn << 12, count << 12);
        if (guest.pinnedIn(gfn, count) != 0) {
            throw new AssertionError(guest.pinnedIn(gfn, count) + " frames still pinned after dmaUnmapped");
        }
        guest.makeHole(gfn, count);
    }

    /** device address → gfn for every live pin of this vGPU (4 KiB granules). */
    Map<Long, Long> dmaToGfn() {
        Map<Long, Long> map = new HashMap<>();
        pins.forEachMapping((gfn, dma, bytes) -> {
            for (long off = 0; off < bytes; off += 4096) {
                map.put(dma + off, gfn + (off >>> 12));
            }
        });
        return map;
    }

    /**
     * What {@code va} resolves to, independent of device addresses: the guest frame (>= 0), -2 for this vGPU's
     * scratch page, or -(100 + 10 * kind + level) for a fault.
     */
    long resolve(GpuAddressSpace space, long va, Map<Long, Long> dmaToGfn) {
        try {
            long device = gpu.walker().translate(space, va);
            long page = device & ~0xFFFL;
            if (scratch.contains(page)) {
                return -2;
            }
            Long gfn = dmaToGfn.get(page);
            if (gfn == null) {
                throw new AssertionError("va 0x" + Long.toHexString(va) + " resolves to device 0x" + Long.toHexString(device)
                        + ", which is neither a pinned guest frame nor scratch");
            }
            return gfn;
        } catch (GpuFault f) {
            return -(100 + 10L * f.kind().ordinal() + f.level());
        }
    }

    @Override
    public void close() {
        ppgtt.close();
        ggtt.close();
        pins.close();
        scratch.close();
        if (ownsGpu) {
            gpu.close();
        }
        guest.close();
    }
}
