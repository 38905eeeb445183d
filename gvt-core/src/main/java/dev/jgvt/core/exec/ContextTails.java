package dev.jgvt.core.exec;

import java.util.Arrays;

/**
 * One engine's pending tails per context id ({@link ElspDecoder}): the tail of the newest queued workload of each
 * context, which the context's next workload continues from. An int-to-int hash map with linear probing, so that an
 * ELSP write boxes nothing; it holds one entry per context with queued work and grows as needed.
 */
final class ContextTails {
    /** What {@link #get} returns for a context without a pending tail (tails are byte offsets, never negative). */
    static final int NONE = -1;

    private int[] ids = new int[8];
    private int[] tails = new int[8];
    private boolean[] used = new boolean[8];
    private int size;

    /** The pending tail of context {@code id}, or {@link #NONE}. */
    int get(int id) {
        int mask = ids.length - 1;
        for (int i = slot(id, mask); used[i]; i = (i + 1) & mask) {
            if (ids[i] == id) {
                return tails[i];
            }
        }
        return NONE;
    }

    void put(int id, int tail) {
        if (tail < 0) {
            throw new IllegalArgumentException("a tail is a byte offset: " + tail);
        }
        int mask = ids.length - 1;
        int i = slot(id, mask);
        while (used[i]) {
            if (ids[i] == id) {
                tails[i] = tail;
                return;
            }
            i = (i + 1) & mask;
        }
        used[i] = true;
        ids[i] = id;
        tails[i] = tail;
        if (++size * 2 > ids.length) {
            grow();
        }
    }

    void remove(int id) {
        int mask = ids.length - 1;
        int i = slot(id, mask);
        while (used[i] && ids[i] != id) {
            i = (i + 1) & mask;
        }
        if (!used[i]) {
            return;
        }
        used[i] = false;
        size--;
        // move later entries of the probe run back so that no lookup stops at the hole
        for (int j = (i + 1) & mask; used[j]; j = (j + 1) & mask) {
            int home = slot(ids[j], mask);
            if (((j - home) & mask) >= ((j - i) & mask)) {
                used[i] = true;
                ids[i] = ids[j];
                tails[i] = tails[j];
                used[j] = false;
                i = j;
            }
        }
    }

    void clear() {
        Arrays.fill(used, false);
        size = 0;
    }

    private void grow() {
        int[] oldIds = ids;
        int[] oldTails = tails;
        boolean[] oldUsed = used;
        ids = new int[oldIds.length * 2];
        tails = new int[oldIds.length * 2];
        used = new boolean[oldIds.length * 2];
        size = 0;
        for (int i = 0; i < oldIds.length; i++) {
            if (oldUsed[i]) {
                put(oldIds[i], oldTails[i]);
            }
        }
    }

    private static int slot(int id, int mask) {
        return (id * 0x9E37_79B9 >>> 16) & mask;
    }
}
