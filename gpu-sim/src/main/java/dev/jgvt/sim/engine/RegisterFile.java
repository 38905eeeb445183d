package dev.jgvt.sim.engine;

import dev.jgvt.core.hw.RegisterAttr;
import dev.jgvt.core.hw.RegisterTable;

/**
 * An engine's register file: MMIO offset (dword aligned, bits 22:2) to a 32-bit value, 0 until written. An
 * open-addressing table, so loads and stores allocate nothing once it has grown. A mode-masked register (the
 * Gen9 register table's {@code mode} attribute, e.g. BCS_SWCTRL) takes only the low bits whose enable bit (bit
 * i + 16) is set in the written value and reads its upper half as 0, as the hardware does.
 */
final class RegisterFile {
    private static final RegisterTable TABLE = RegisterTable.gen9();
    private int[] keys = new int[64];
    private int[] values = new int[64];
    private int size;

    int read(int offset) {
        int slot = find(offset);
        return keys[slot] == 0 ? 0 : values[slot];
    }

    void write(int offset, int value) {
        int slot = find(offset);
        if (TABLE.has(offset, RegisterAttr.MODE_MASK)) {
            int mask = value >>> 16;
            int old = keys[slot] == 0 ? 0 : values[slot];
            value = ((old & ~mask) | (value & mask)) & 0xFFFF;
        }
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
