package dev.jgvt.core.mmio;

import java.util.BitSet;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logging of accesses the device does not handle: each offset is logged once, and at most
 * {@value #LINES_PER_SECOND} lines per second per vGPU are written (the rest are counted and summarised in
 * the next line). Counting never stops, so tests and diagnostics can see every dropped access; the first
 * {@value #COUNTED_OFFSETS} distinct offsets are also counted one by one ({@link #perOffset()}), in a fixed table
 * that allocates nothing per access.
 */
final class AccessLog {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    static final int LINES_PER_SECOND = 20;
    /** Distinct offsets counted one by one (a power of two; later offsets only count in the total). */
    static final int COUNTED_OFFSETS = 4096;

    private final String owner;
    private final LongSupplier nanoTime;
    private final BitSet logged = new BitSet();
    private long count;
    private long lines;
    private long windowStart = Long.MIN_VALUE;
    private int linesInWindow;
    private long suppressed;
    /** Open addressing: dword index + 1 (0 = free slot) and its count. */
    private final int[] keys = new int[COUNTED_OFFSETS * 2];
    private final long[] counts = new long[COUNTED_OFFSETS * 2];
    private int distinct;

    AccessLog(String owner) {
        this(owner, System::nanoTime);
    }

    AccessLog(String owner, LongSupplier nanoTime) {
        this.owner = owner;
        this.nanoTime = nanoTime;
    }

    /** Records an unhandled access at BAR0 {@code offset}; logs it if new and the rate allows. */
    void record(long offset, String what) {
        count++;
        int key = (int) (offset >>> 2);
        if (offset >= 0 && offset < 1L << 32) {
            countOffset(key);
        }
        if (offset < 0 || logged.get(key)) {
            return;
        }
        logged.set(key);
        long now = nanoTime.getAsLong();
        if (windowStart == Long.MIN_VALUE || now - windowStart >= 1_000_000_000L) {
            windowStart = now;
            linesInWindow = 0;
        }
        if (linesInWindow >= LINES_PER_SECOND) {
            suppressed++;
            return;
        }
        linesInWindow++;
        lines++;
        if (suppressed > 0) {
            log.warn("{}: {} at BAR0 0x{} ({} more new offsets not logged)", owner, what, Long.toHexString(offset), suppressed);
            suppressed = 0;
        } else {
            log.warn("{}: {} at BAR0 0x{}", owner, what, Long.toHexString(offset));
        }
    }

    private void countOffset(int key) {
        int mask = keys.length - 1;
        for (int slot = (key * 0x9E3779B1) >>> 1 & mask;; slot = (slot + 1) & mask) {
            if (keys[slot] == key + 1) {
                counts[slot]++;
                return;
            }
            if (keys[slot] == 0) {
                if (distinct == COUNTED_OFFSETS) {
                    return;
                }
                distinct++;
                keys[slot] = key + 1;
                counts[slot] = 1;
                return;
            }
        }
    }

    long count() {
        return count;
    }

    /** The accesses counted per byte offset (dword aligned), in offset order (a snapshot). */
    Map<Long, Long> perOffset() {
        Map<Long, Long> m = new TreeMap<>();
        for (int slot = 0; slot < keys.length; slot++) {
            if (keys[slot] != 0) {
                m.put((keys[slot] - 1L) << 2, counts[slot]);
            }
        }
        return m;
    }

    /** How many lines were written (each new offset at most once, at most {@value #LINES_PER_SECOND} a second). */
    long lines() {
        return lines;
    }

    void clear() {
        logged.clear();
    }
}
