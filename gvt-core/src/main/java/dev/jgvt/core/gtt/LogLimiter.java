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

    /** Logs {@code format} at WARN when the limit allows, noting how many similar messages were suppressed. */
    void warn(org.slf4j.Logger log, String format, Object... args) {
        if (allow() && log.isWarnEnabled()) {
            long suppressed = takeSuppressed();
            log.warn(String.format(format, args) + (suppressed > 0 ? " (" + suppressed + " similar suppressed)" : ""));
        }
    }
}
