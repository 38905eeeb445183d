package dev.jgvt.core.gtt;

import java.util.Arrays;

/**
 * The pin cache's index: guest frame number → id of its cache slot, as one array of keys {@code gfn << ID_BITS | id}
 * with linear probing and backward-shift deletion (no tombstones, no allocation per lookup).
 */
final class FrameIndex {
    /** Bits of a key (and of a pin handle) that hold the slot id. */
    static final int ID_BITS = 24;
    static final long ID_MASK = (1L << ID_BITS) - 1;
    /** Frames at or above this number do not fit a key. */
    static final long MAX_GFN = 1L << (63 - ID_BITS);
    private static final long EMPTY = -1;

    private long[] keys = new long[2048];
    private int mask = keys.length - 1;
    private int size;

    FrameIndex() {
        Arrays.fill(keys, EMPTY);
    }

    /** Frames indexed. */
    int size() {
        return size;
    }

    private int slot(long gfn) {
        long h = gfn * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    /** The id of cached frame {@code gfn}, or 0. */
    int find(long gfn) {
        int i = slot(gfn);
        while (true) {
            long k = keys[i];
            if (k == EMPTY) {
                return 0;
            }
            if ((k >>> ID_BITS) == gfn) {
                return (int) (k & ID_MASK);
            }
            i = (i + 1) & mask;
        }
    }

    void insert(long gfn, int id) {
        if ((size + 1) * 4 > keys.length * 3) {
            long[] old = keys;
            keys = new long[old.length * 2];
            Arrays.fill(keys, EMPTY);
            mask = keys.length - 1;
            for (long k : old) {
                if (k != EMPTY) {
                    place(k);
                }
            }
        }
        place(gfn << ID_BITS | id);
        size++;
    }

    private void place(long key) {
        int i = slot(key >>> ID_BITS);
        while (keys[i] != EMPTY) {
            i = (i + 1) & mask;
        }
        keys[i] = key;
    }

    void remove(long gfn) {
        int hole = slot(gfn);
        while ((keys[hole] >>> ID_BITS) != gfn) {
            if (keys[hole] == EMPTY) {
                return;
            }
            hole = (hole + 1) & mask;
        }
        size--;
        int i = hole;
        while (true) {
            int next = (i + 1) & mask;
            long k = keys[next];
            if (k == EMPTY) {
                keys[hole] = EMPTY;
                return;
            }
            int home = slot(k >>> ID_BITS);
            // move k into the hole when its home is not in (hole, next] cyclically
            boolean between = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
            if (!between) {
                keys[hole] = k;
                hole = next;
            }
            i = next;
        }
    }
}
