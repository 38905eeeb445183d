package dev.jgvt.core.cmd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** A native buffer that only grows (reused across workloads); growing keeps the valid prefix. */
final class ShadowBuffer implements AutoCloseable {
    private static final ValueLayout.OfLong QW = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final MemorySegment ZEROS = Arena.global().allocate(16 * 1024, 64);

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

    /**
     * Copies the ring slice [head, tail) of the ring at {@code start} (wrapping at the ring end after {@code size}
     * bytes) to the start of this buffer.
     */
    long copyRing(GraphicsMemory gm, long start, long size, long head, long tail) throws GmUnmappedException {
        long bytes = head <= tail ? tail - head : size - head + tail;
        ensureCapacity(bytes, 0);
        if (head <= tail) {
            if (bytes > 0) {
                gm.copy(start + head, seg, 0, bytes);
            }
        } else {
            gm.copy(start + head, seg, 0, size - head);
            if (tail > 0) {
                gm.copy(start, seg, size - head, tail);
            }
        }
        return bytes;
    }

    /** The end of a run of MI_NOOPs starting at {@code pos} (short runs inline, long runs vectorized). */
    static long noopRunEnd(MemorySegment seg, long pos, long lim) {
        for (int i = 0; i < 4; i++) {
            if (pos + 8 > lim || seg.get(QW, pos) != 0) {
                return pos;
            }
            pos += 8;
        }
        while (pos < lim) {
            long n = Math.min(lim - pos, ZEROS.byteSize());
            long m = MemorySegment.mismatch(seg, pos, pos + n, ZEROS, 0, n);
            if (m >= 0) {
                return pos + (m & ~3L);
            }
            pos += n;
        }
        return pos;
    }
}
