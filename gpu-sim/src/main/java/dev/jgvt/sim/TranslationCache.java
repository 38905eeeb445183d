package dev.jgvt.sim;

import static java.util.Objects.requireNonNull;

import java.lang.foreign.MemorySegment;

/**
 * A software TLB for one command streamer: 4 KiB translations (graphics page of an address space → device frame
 * and the segment behind it), direct-mapped, {@value #SIZE} entries, and beside them a paging-structure cache of
 * {@value #DIRECTORIES} PPGTT page-directory entries (one per 2 MiB region), so that a TLB miss reads one PTE
 * instead of walking four levels. Both live for one slice of a workload:
 * the streamer {@linkplain #clear clears} it when a slice starts and at every flush command (MI_FLUSH_DW,
 * PIPE_CONTROL), where a driver invalidates the hardware's TLBs, so page-table memory written between workloads
 * (a guest's PTE update shadowed by the core, a PPGTT the direct path rebuilt) is walked again. What changes the
 * GPU's mappings behind the tables — a GGTT write, a DMA unmap, freed host memory — clears it at once, even in
 * the middle of a slice: {@link SimGpu} counts those changes and a lookup that sees a new count clears the cache
 * first. Faults are never cached: a failing walk is walked (and fails) again.
 *
 * <p>Used by one thread at a time (the streamer's {@code execute} is synchronized). Clearing is one increment:
 * entries carry the epoch they were made in.
 */
final class TranslationCache {
    static final int SIZE = 512;
    static final int DIRECTORIES = 32;

    private final SimGpu gpu;
    private final GpuAddressSpace[] spaces = new GpuAddressSpace[SIZE];
    private final long[] pages = new long[SIZE];
    private final long[] frames = new long[SIZE];
    private final MemorySegment[] segments = new MemorySegment[SIZE];
    private final long[] epochs = new long[SIZE];
    /** The paging-structure part: PPGTT page-directory entries per 2 MiB region, direct-mapped. */
    private final GpuAddressSpace[] directorySpaces = new GpuAddressSpace[DIRECTORIES];
    private final long[] regions = new long[DIRECTORIES];
    private final long[] directories = new long[DIRECTORIES];
    private final long[] directoryEpochs = new long[DIRECTORIES];
    /** Entries of another epoch are empty. */
    private long epoch = 1;
    /** {@link SimGpu#mappingChanges()} when this epoch began. */
    private long changes;
    private long hits;
    private long misses;

    TranslationCache(SimGpu gpu) {
        this.gpu = requireNonNull(gpu, "gpu is null");
        this.changes = gpu.mappingChanges();
    }

    /** Forgets every translation. */
    void clear() {
        epoch++;
        changes = gpu.mappingChanges();
    }

    /** The entry holding page {@code page} ({@code va >>> 12}) of {@code space}, or -1. */
    int find(GpuAddressSpace space, long page) {
        long now = gpu.mappingChanges();
        if (now != changes) {
            epoch++;
            changes = now;
            misses++;
            return -1;
        }
        int i = slot(page);
        if (epochs[i] == epoch && pages[i] == page && spaces[i] == space) {
            hits++;
            return i;
        }
        misses++;
        return -1;
    }

    /** The entry holding the page-directory entry of 2 MiB region {@code region} ({@code va >>> 21}) of {@code space}, or -1. */
    int findDirectory(GpuAddressSpace space, long region) {
        long now = gpu.mappingChanges();
        if (now != changes) {
            epoch++;
            changes = now;
            return -1;
        }
        int i = (int) region & (DIRECTORIES - 1);
        return directoryEpochs[i] == epoch && regions[i] == region && directorySpaces[i] == space ? i : -1;
    }

    /** The page-directory entry of directory entry {@code i}. */
    long directory(int i) {
        return directories[i];
    }

    /** Remembers the (present) page-directory entry {@code pde} of 2 MiB region {@code region} of {@code space}. */
    void putDirectory(GpuAddressSpace space, long region, long pde) {
        int i = (int) region & (DIRECTORIES - 1);
        directorySpaces[i] = space;
        regions[i] = region;
        directories[i] = pde;
        directoryEpochs[i] = epoch;
    }

    /** Device address of the 4 KiB frame of entry {@code i}. */
    long frame(int i) {
        return frames[i];
    }

    /** The segment of the frame of entry {@code i}. */
    MemorySegment segment(int i) {
        return segments[i];
    }

    /** Remembers that page {@code page} of {@code space} is the 4 KiB frame at {@code frame}, backed by {@code segment}. */
    void put(GpuAddressSpace space, long page, long frame, MemorySegment segment) {
        int i = slot(page);
        spaces[i] = space;
        pages[i] = page;
        frames[i] = frame;
        segments[i] = segment;
        epochs[i] = epoch;
    }

    /** Lookups answered from the cache so far. */
    long hits() {
        return hits;
    }

    /** Lookups that walked the tables so far. */
    long misses() {
        return misses;
    }

    private static int slot(long page) {
        return (int) (page ^ (page >>> 9)) & (SIZE - 1);
    }
}
