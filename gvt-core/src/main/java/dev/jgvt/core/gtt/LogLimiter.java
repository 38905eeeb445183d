package dev.jgvt.core.gtt;

/**
 * Rate limit for logging what a guest does wrong: at most {@code perWindow} messages per window of
 * {@code windowNanos}; the rest are counted and reported with the next allowed message.
 */
final class LogLimiter {
    private final int perWindow;
    private final long windowNanos;
    private long windowStart = Long.MIN_VALUE;
    private int inWindow;
    private long suppressed;

    LogLimiter(int perWindow, long windowNanos) {
        this.perWindow = perWindow;
        this.windowNanos = windowNanos;
    }

    /** Whether to log now; returns false and counts when over the limit. */
    boolean allow() {
        long now = System.nanoTime();
        if (windowStart == Long.MIN_VALUE || now - windowStart >= windowNanos) {
            windowStart = now;
            inWindow = 0;
        }
        if (inWindow < perWindow) {
            inWindow++;
            return true;
        }
        suppressed++;
        return false;
    }

    /** Messages suppressed since the last call; resets the count. */
    long takeSuppressed() {
        long s = suppressed;
        suppressed = 0;
        return s;
    }
}
