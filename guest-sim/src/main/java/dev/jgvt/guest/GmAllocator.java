package dev.jgvt.guest;

import java.util.Map;
import java.util.TreeMap;

/**
 * The guest's allocator of graphics memory, confined to the ranges PVINFO ballooned to it: everything
 * outside them belongs to other vGPUs or the host, and a correct guest never points a GGTT entry or a
 * command there. First fit over a free list of 4 KiB-aligned ranges.
 */
public final class GmAllocator {
    private static final long PAGE = 4096;

    private final long base;
    private final long size;
    private final TreeMap<Long, Long> free = new TreeMap<>();

    public GmAllocator(long base, long size) {
        if (base < 0 || size <= 0 || base % PAGE != 0 || size % PAGE != 0) {
            throw new IllegalArgumentException(String.format("bad GM range base 0x%x size 0x%x", base, size));
        }
        this.base = base;
        this.size = size;
        free.put(base, size);
    }

    /** Allocates {@code bytes} (rounded up to 4 KiB) aligned to {@code alignment} (a power of two >= 4 KiB). */
    public long allocate(long bytes, long alignment) {
        if (bytes <= 0 || alignment < PAGE || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("bad allocation: " + bytes + " bytes, alignment " + alignment);
        }
        long length = (bytes + PAGE - 1) & -PAGE;
        for (Map.Entry<Long, Long> hole : free.entrySet()) {
            // copy out first: TreeMap.remove may reuse this entry's node for its successor
            long holeStart = hole.getKey();
            long holeEnd = holeStart + hole.getValue();
            long start = (holeStart + alignment - 1) & -alignment;
            if (start + length <= holeEnd) {
                free.remove(holeStart);
                if (start > holeStart) {
                    free.put(holeStart, start - holeStart);
                }
                if (start + length < holeEnd) {
                    free.put(start + length, holeEnd - start - length);
                }
                return start;
            }
        }
        throw new GuestException(String.format("out of graphics memory: %d bytes wanted in [0x%x, 0x%x)", length, base, base + size));
    }

    /** Returns a range from {@link #allocate}; neighbours are merged. */
    public void free(long address, long bytes) {
        long length = (bytes + PAGE - 1) & -PAGE;
        if (address < base || address + length > base + size) {
            throw new IllegalArgumentException(String.format("0x%x+0x%x is outside [0x%x, 0x%x)", address, length, base, base + size));
        }
        long start = address;
        long end = address + length;
        Map.Entry<Long, Long> before = free.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() > start) {
            throw new IllegalArgumentException(String.format("double free at 0x%x", address));
        }
        if (before != null && before.getKey() + before.getValue() == start) {
            start = before.getKey();
            free.remove(start);
        }
        Map.Entry<Long, Long> after = free.ceilingEntry(address);
        if (after != null && after.getKey() < end) {
            throw new IllegalArgumentException(String.format("double free at 0x%x", address));
        }
        if (after != null && after.getKey() == end) {
            long afterStart = after.getKey();
            end += after.getValue();
            free.remove(afterStart);
        }
        free.put(start, end - start);
    }

    public long freeBytes() {
        return free.values().stream().mapToLong(Long::longValue).sum();
    }

    public boolean owns(long address, long bytes) {
        return bytes > 0 && address >= base && address - base <= size - bytes;
    }
}
