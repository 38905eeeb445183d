package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Graphics memory made of segments mapped at fixed graphics addresses; everything else is unmapped. Used by the
 * CLI, tests and benchmarks in place of a real GGTT walk.
 */
public final class SegmentGraphicsMemory implements GraphicsMemory {
    private record Mapping(long base, MemorySegment segment) {
        long end() {
            return base + segment.byteSize();
        }
    }

    private final List<Mapping> mappings = new ArrayList<>();

    /** Maps {@code segment} at graphics address {@code base}; mappings may not overlap. */
    public SegmentGraphicsMemory map(long base, MemorySegment segment) {
        requireNonNull(segment, "segment is null");
        if (base < 0 || base + segment.byteSize() < base) {
            throw new IllegalArgumentException("bad mapping base 0x" + Long.toHexString(base));
        }
        for (Mapping m : mappings) {
            if (base < m.end() && m.base < base + segment.byteSize()) {
                throw new IllegalArgumentException("mapping at 0x" + Long.toHexString(base) + " overlaps one at 0x"
                        + Long.toHexString(m.base));
            }
        }
        mappings.add(new Mapping(base, segment));
        mappings.sort(Comparator.comparingLong(Mapping::base));
        return this;
    }

    @Override
    public void copy(long gma, MemorySegment dst, long dstOffset, long length) throws GmUnmappedException {
        long done = 0;
        while (done < length) {
            long at = gma + done;
            Mapping m = find(at);
            if (m == null) {
                throw new GmUnmappedException(at);
            }
            long n = Math.min(length - done, m.end() - at);
            MemorySegment.copy(m.segment, at - m.base, dst, dstOffset + done, n);
            done += n;
        }
    }

    private Mapping find(long address) {
        for (int i = 0; i < mappings.size(); i++) {
            Mapping m = mappings.get(i);
            if (address >= m.base && address < m.end()) {
                return m;
            }
        }
        return null;
    }
}
