package dev.jgvt.core.mmio;

import java.util.BitSet;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logging of accesses the device does not handle: each offset is logged once, and at most
 * {@value #LINES_PER_SECOND} lines per second per vGPU are written (the rest are counted and summarised in
 * the next line). Counting never stops, so tests and diagnostics can see every dropped access.
 */
final class AccessLog {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    static final int LINES_PER_SECOND = 20;

    private final String owner;
    private final LongSupplier nanoTime;
    private final BitSet logged = new BitSet();
    private long count;
    private long lines;
    private long windowStart = Long.MIN_VALUE;
    private int linesInWindow;
    private long suppressed;

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

    long count() {
        return count;
    }

    /** How many lines were written (each new offset at most once, at most {@value #LINES_PER_SECOND} a second). */
    long lines() {
        return lines;
    }

    void clear() {
        logged.clear();
    }
}
