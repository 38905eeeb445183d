package dev.jgvt.core.cmd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A native buffer that only grows (reused across workloads); growing keeps the valid prefix. */
final class ShadowBuffer implements AutoCloseable {
    private Arena arena;
    MemorySegment seg;

    ShadowBuffer(long capacity) {
        arena = Arena.ofShared();
        seg = arena.allocate(capacity, 4096);
    }

    /** Makes room for {@code needed} bytes, keeping the first {@code valid} bytes. */
    void ensureCapacity(long needed, long valid) {
        if (needed <= seg.byteSize()) {
            return;
        }
        long capacity = Math.max(needed, seg.byteSize() * 2);
        capacity = (capacity + 4095) & ~4095L;
        Arena next = Arena.ofShared();
        MemorySegment grown = next.allocate(capacity, 4096);
        MemorySegment.copy(seg, 0, grown, 0, Math.min(valid, seg.byteSize()));
        Arena old = arena;
        arena = next;
        seg = grown;
        old.close();
    }

    @Override
    public void close() {
        arena.close();
    }
}
