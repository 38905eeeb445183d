package dev.jgvt.sim.engine;

/**
 * An engine's register file: MMIO offset (dword aligned, bits 22:2) to a 32-bit value, 0 until written. An
 * open-addressing table, so loads and stores allocate nothing once it has grown.
 */
final class RegisterFile {
    private int[] keys = new int[64];
    private int[] values = new int[64];
    private int size;

    int read(int offset) {
        int slot = find(offset);
        return keys[slot] == 0 ? 0 : values[slot];
    }

    void write(int offset, int value) {
        int slot = find(offset);
        if (keys[slot] == 0) {
            if (2 * (size + 1) > keys.length) {
                grow();
                slot = find(offset);
            }
            keys[slot] = offset + 1;
            size++;
        }
        values[slot] = value;
    }

    private int find(int offset) {
        int mask = keys.length - 1;
        int slot = (offset * 0x9E3779B9 >>> 7) & mask;
        while (keys[slot] != 0 && keys[slot] != offset + 1) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    private void grow() {
        int[] oldKeys = keys;
        int[] oldValues = values;
        keys = new int[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                int slot = find(oldKeys[i] - 1);
                keys[slot] = oldKeys[i];
                values[slot] = oldValues[i];
            }
        }
    }

    @Override
    public String toString() {
        return "RegisterFile[" + size + " registers]";
    }
}
