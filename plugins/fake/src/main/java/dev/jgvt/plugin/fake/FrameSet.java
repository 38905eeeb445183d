package dev.jgvt.plugin.fake;

import java.util.BitSet;

/**
 * A set of guest frames, changed under the owner's lock and read without one: every change publishes an
 * immutable sorted array of {@code [start, end)} runs that readers scan. Readers are the memory access
 * paths; the sets are small (a few removed or read-only ranges), so a scan is a handful of comparisons.
 */
final class FrameSet {
    private static final long[] EMPTY = new long[0];

    private final BitSet frames = new BitSet();
    private volatile long[] runs = EMPTY;

    /** Adds frames {@code [start, end)}. Caller holds the owner's lock. */
    void add(long start, long end) {
        frames.set(Math.toIntExact(start), Math.toIntExact(end));
        publish();
    }

    /** Removes frames {@code [start, end)}. Caller holds the owner's lock. */
    void remove(long start, long end) {
        frames.clear(Math.toIntExact(start), Math.toIntExact(end));
        publish();
    }

    /** Removes every frame. Caller holds the owner's lock. */
    void clear() {
        frames.clear();
        publish();
    }

    boolean isEmpty() {
        return runs.length == 0;
    }

    /** The first frame of the set in {@code [start, end)}, or -1. Lock-free. */
    long firstIn(long start, long end) {
        long[] snapshot = runs;
        for (int i = 0; i < snapshot.length; i += 2) {
            long runStart = snapshot[i];
            long runEnd = snapshot[i + 1];
            if (runStart < end && start < runEnd) {
                return Math.max(runStart, start);
            }
        }
        return -1;
    }

    boolean contains(long frame) {
        return firstIn(frame, frame + 1) >= 0;
    }

    @Override
    public String toString() {
        long[] snapshot = runs;
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < snapshot.length; i += 2) {
            if (i > 0) {
                text.append(", ");
            }
            text.append("0x").append(Long.toHexString(snapshot[i])).append("-0x").append(Long.toHexString(snapshot[i + 1] - 1));
        }
        return text.append(']').toString();
    }

    private void publish() {
        int count = 0;
        for (int i = frames.nextSetBit(0); i >= 0; i = frames.nextSetBit(frames.nextClearBit(i))) {
            count++;
        }
        long[] next = new long[2 * count];
        int n = 0;
        for (int i = frames.nextSetBit(0); i >= 0; i = frames.nextSetBit(frames.nextClearBit(i))) {
            next[n++] = i;
            next[n++] = frames.nextClearBit(i);
        }
        runs = next;
    }
}
