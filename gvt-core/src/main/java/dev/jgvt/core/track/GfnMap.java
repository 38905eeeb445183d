package dev.jgvt.core.track;

import java.util.Arrays;

/**
 * An open-addressing map from non-negative {@code long} keys (guest frame numbers and keys derived from them)
 * to objects, without boxing: lookups on the trap and shadowing paths allocate nothing. Linear probing with
 * backward-shift deletion. Not thread-safe (owned by one vGPU, used under its lock).
 *
 * @param <V> the value type
 */
public final class GfnMap<V> {
    private static final long EMPTY = -1;

    private long[] keys;
    private Object[] values;
    private int size;
    private int mask;

    public GfnMap() {
        this(16);
    }

    public GfnMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1;
        keys = new long[capacity];
        Arrays.fill(keys, EMPTY);
        values = new Object[capacity];
        mask = capacity - 1;
    }

    /** The value for {@code key}, or null. */
    @SuppressWarnings("unchecked")
    public V get(long key) {
        int i = slot(key);
        while (true) {
            long k = keys[i];
            if (k == key) {
                return (V) values[i];
            }
            if (k == EMPTY) {
                return null;
            }
            i = (i + 1) & mask;
        }
    }

    /** Associates {@code value} (non-null) with {@code key} (non-negative); returns the previous value or null. */
    @SuppressWarnings("unchecked")
    public V put(long key, V value) {
        if (key < 0) {
            throw new IllegalArgumentException("key must be non-negative: " + key);
        }
        if (value == null) {
            throw new IllegalArgumentException("value is null");
        }
        int i = slot(key);
        while (true) {
            long k = keys[i];
            if (k == key) {
                V old = (V) values[i];
                values[i] = value;
                return old;
            }
            if (k == EMPTY) {
                keys[i] = key;
                values[i] = value;
                if (++size * 4 > keys.length * 3) {
                    grow();
                }
                return null;
            }
            i = (i + 1) & mask;
        }
    }

    /** Removes {@code key}; returns its value or null. */
    @SuppressWarnings("unchecked")
    public V remove(long key) {
        int i = slot(key);
        while (true) {
            long k = keys[i];
            if (k == EMPTY) {
                return null;
            }
            if (k == key) {
                V old = (V) values[i];
                shiftBack(i);
                size--;
                return old;
            }
            i = (i + 1) & mask;
        }
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public void clear() {
        Arrays.fill(keys, EMPTY);
        Arrays.fill(values, null);
        size = 0;
    }

    /** The keys, in table order (a copy: the map may be changed while iterating the result). */
    public long[] keys() {
        long[] out = new long[size];
        int n = 0;
        for (long k : keys) {
            if (k != EMPTY) {
                out[n++] = k;
            }
        }
        return out;
    }

    /** The values, in table order (a copy). */
    @SuppressWarnings("unchecked")
    public java.util.List<V> values() {
        java.util.List<V> out = new java.util.ArrayList<>(size);
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                out.add((V) values[i]);
            }
        }
        return out;
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    private void shiftBack(int hole) {
        int i = hole;
        while (true) {
            int next = (i + 1) & mask;
            long k = keys[next];
            if (k == EMPTY) {
                keys[hole] = EMPTY;
                values[hole] = null;
                return;
            }
            int home = slot(k);
            // move k into the hole when its home is not in (hole, next] cyclically
            boolean between = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
            if (!between) {
                keys[hole] = k;
                values[hole] = values[next];
                hole = next;
            }
            i = next;
        }
    }

    private void grow() {
        long[] oldKeys = keys;
        Object[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        values = new Object[oldKeys.length * 2];
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                insertFresh(oldKeys[i], oldValues[i]);
            }
        }
    }

    private void insertFresh(long key, Object value) {
        int i = slot(key);
        while (keys[i] != EMPTY) {
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
    }
}
