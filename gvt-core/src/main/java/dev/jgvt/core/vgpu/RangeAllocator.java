package dev.jgvt.core.vgpu;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * First-fit allocation of disjoint sub-ranges of {@code [start, end)} in units of {@code granule}. Freed
 * ranges are merged with free neighbours, so freeing a range in the middle of allocated ones leaves a hole
 * that later allocations of that size or smaller reuse. Not thread-safe (the manager serialises).
 */
public final class RangeAllocator {
    private final long start;
    private final long end;
    private final long granule;
    /** Free ranges: base → end, disjoint and never adjacent (merged). */
    private final NavigableMap<Long, Long> free = new TreeMap<>();
    /** Allocated ranges: base → end. */
    private final NavigableMap<Long, Long> used = new TreeMap<>();

    public RangeAllocator(long start, long end, long granule) {
        if (start < 0 || end < start || granule <= 0 || start % granule != 0 || end % granule != 0) {
            throw new IllegalArgumentException("bad allocator range [" + start + ", " + end + ") granule " + granule);
        }
        this.start = start;
        this.end = end;
        this.granule = granule;
        if (end > start) {
            free.put(start, end);
        }
    }

    /** Allocates {@code size} units at the lowest fitting base; -1 if no free range is large enough. */
    public long allocate(long size) {
        if (size <= 0 || size % granule != 0) {
            throw new IllegalArgumentException("size must be a positive multiple of " + granule + ": " + size);
        }
        for (Map.Entry<Long, Long> hole : free.entrySet()) {
            long base = hole.getKey();
            long holeEnd = hole.getValue();
            if (holeEnd - base >= size) {
                free.remove(base);
                if (base + size < holeEnd) {
                    free.put(base + size, holeEnd);
                }
                used.put(base, base + size);
                return base;
            }
        }
        return -1;
    }

    /** Returns the range allocated at {@code base}. */
    public void free(long base) {
        Long rangeEnd = used.remove(base);
        if (rangeEnd == null) {
            throw new IllegalArgumentException("no range allocated at " + base);
        }
        long newBase = base;
        long newEnd = rangeEnd;
        Map.Entry<Long, Long> below = free.floorEntry(base);
        if (below != null && below.getValue() == base) {
            newBase = below.getKey();
            free.remove(below.getKey());
        }
        Long aboveEnd = free.remove(rangeEnd);
        if (aboveEnd != null) {
            newEnd = aboveEnd;
        }
        free.put(newBase, newEnd);
    }

    /** Units not allocated (possibly fragmented). */
    public long freeTotal() {
        long total = 0;
        for (Map.Entry<Long, Long> hole : free.entrySet()) {
            total += hole.getValue() - hole.getKey();
        }
        return total;
    }

    public long capacity() {
        return end - start;
    }
}
