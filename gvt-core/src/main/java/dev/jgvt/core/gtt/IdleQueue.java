package dev.jgvt.core.gtt;

import java.util.Arrays;
import java.util.function.LongPredicate;

/**
 * The pin cache's idle frames, oldest first: a ring of handles. Entries of frames dropped or re-used since they were
 * queued go stale; the cache skips them when it polls, and {@link #add} drops them before it grows the ring.
 */
final class IdleQueue {
    private final LongPredicate live;
    private long[] ring = new long[64];
    private int head;
    private int size;

    /** @param live whether a queued handle still names the frame it was queued for */
    IdleQueue(LongPredicate live) {
        this.live = live;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void add(long handle) {
        if (size == ring.length) {
            compact();
        }
        ring[(head + size) & (ring.length - 1)] = handle;
        size++;
    }

    /** The oldest handle, removed; only when not {@link #isEmpty}. */
    long poll() {
        long h = ring[head];
        head = (head + 1) & (ring.length - 1);
        size--;
        return h;
    }

    void clear() {
        head = 0;
        size = 0;
    }

    /** Drops stale entries and grows the ring if it is still more than half full. */
    private void compact() {
        long[] old = ring;
        int n = 0;
        long[] kept = new long[old.length];
        for (int k = 0; k < size; k++) {
            long h = old[(head + k) & (old.length - 1)];
            if (live.test(h)) {
                kept[n++] = h;
            }
        }
        ring = n * 2 > old.length ? Arrays.copyOf(kept, old.length * 2) : kept;
        head = 0;
        size = n;
    }
}
