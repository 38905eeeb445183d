package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.track.GfnMap;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.MemorySegment;

/**
 * The pin cache's 2 MiB runs: 512 guest frames pinned together and DMA-mapped as one huge page when the GPU has
 * 2 MiB pages and the run is contiguous in host memory. Reference-counted; unmapped and unpinned at zero.
 */
final class HugeRuns {
    static final int FRAMES_2M = HostGpu.HUGE_PAGE_SIZE / HostGpu.PAGE_SIZE;

    /** One 2 MiB run mapped as a whole. */
    private static final class Run {
        final long gfn;
        final PinnedPages pin;
        final long dma;
        int refs;

        Run(long gfn, PinnedPages pin, long dma) {
            this.gfn = gfn;
            this.pin = pin;
            this.dma = dma;
        }
    }

    private final GuestPages pages;
    private final HostGpu gpu;
    private final GfnMap<Run> runs = new GfnMap<>(16);
    private long pinFailures;

    HugeRuns(GuestPages pages, HostGpu gpu) {
        this.pages = requireNonNull(pages, "pages is null");
        this.gpu = requireNonNull(gpu, "gpu is null");
    }

    /** See {@link PinCache#acquireHuge}. */
    long acquire(long firstGfn) {
        if (!gpu.supportsHugePages() || (firstGfn & (FRAMES_2M - 1)) != 0) {
            return PinCache.NO_MAPPING;
        }
        Run e = runs.get(firstGfn);
        if (e == null) {
            PinnedPages pin;
            try {
                pin = pages.pin(firstGfn, FRAMES_2M, GuestPages.Access.READ_WRITE);
            } catch (GvtException ex) {
                pinFailures++;
                return PinCache.NO_MAPPING;
            }
            MemorySegment run = pin.contiguous().orElse(null);
            if (run == null || run.byteSize() != HostGpu.HUGE_PAGE_SIZE) {
                pin.close();
                return PinCache.NO_MAPPING;
            }
            long dma;
            try {
                dma = gpu.dmaMap(run);
            } catch (GvtException ex) {
                pin.close();
                pinFailures++;
                return PinCache.NO_MAPPING;
            }
            e = new Run(firstGfn, pin, dma);
            runs.put(firstGfn, e);
        }
        e.refs++;
        return e.dma;
    }

    /** See {@link PinCache#releaseHuge}. */
    void release(long firstGfn) {
        Run e = runs.get(firstGfn);
        if (e == null || e.refs == 0) {
            return;
        }
        if (--e.refs == 0) {
            runs.remove(firstGfn);
            PinCache.unmapAndUnpin(gpu, e.gfn, e.dma, e.pin);
        }
    }

    int size() {
        return runs.size();
    }

    long pinFailures() {
        return pinFailures;
    }

    void forEach(PinCache.MappingVisitor visitor) {
        for (Run e : runs.values()) {
            visitor.mapping(e.gfn, e.dma, HostGpu.HUGE_PAGE_SIZE);
        }
    }

    /** Whether a run overlaps frames {@code [first, end)}. */
    boolean overlaps(long first, long end) {
        for (Run e : runs.values()) {
            if (e.gfn < end && e.gfn + FRAMES_2M > first) {
                return true;
            }
        }
        return false;
    }

    /** Unmaps and unpins every run overlapping frames {@code [first, end)}, referenced or not. */
    void drop(long first, long end) {
        for (Run e : runs.values()) {
            if (e.gfn < end && e.gfn + FRAMES_2M > first) {
                runs.remove(e.gfn);
                PinCache.unmapAndUnpin(gpu, e.gfn, e.dma, e.pin);
            }
        }
    }

    /** Unmaps and unpins every run. */
    void clear() {
        for (Run e : runs.values()) {
            PinCache.unmapAndUnpin(gpu, e.gfn, e.dma, e.pin);
        }
        runs.clear();
    }
}
