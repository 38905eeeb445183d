package dev.jgvt.core.mmio;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The register table compiled for lookups: per dword of the 2 MiB register file, the attribute word, the
 * behaviour and the row. Immutable and shared by every vGPU of a generation; lookups allocate nothing.
 */
public final class RegisterRegistry {
    private static final RegisterRegistry GEN9 = new RegisterRegistry(Gen9Registers.table());

    private final List<Register> rows;
    private final short[] attrs = new short[MmioSpace.DWORDS];
    /** Behaviour ordinal + 1 per dword; 0 = no row. */
    private final byte[] behaviors = new byte[MmioSpace.DWORDS];
    private final int[] rowIndex = new int[MmioSpace.DWORDS];
    private final int[] resetValues = new int[MmioSpace.DWORDS];

    RegisterRegistry(List<Register> rows) {
        this.rows = List.copyOf(requireNonNull(rows, "rows is null"));
        Arrays.fill(rowIndex, -1);
        for (int r = 0; r < this.rows.size(); r++) {
            Register row = this.rows.get(r);
            for (int i = 0; i < row.count(); i++) {
                int dw = row.offsetOf(i) >>> 2;
                if (rowIndex[dw] >= 0) {
                    throw new IllegalArgumentException("register " + row.nameOf(i) + " at 0x"
                            + Integer.toHexString(row.offsetOf(i)) + " overlaps " + this.rows.get(rowIndex[dw]).name());
                }
                rowIndex[dw] = r;
                attrs[dw] = (short) row.attrBits();
                behaviors[dw] = (byte) (row.behavior().ordinal() + 1);
                resetValues[dw] = row.resetValue();
            }
        }
    }

    /** The Gen9 (Skylake) registry. */
    public static RegisterRegistry gen9() {
        return GEN9;
    }

    /** The table rows, in order. */
    public List<Register> rows() {
        return rows;
    }

    /** Whether {@code offset} (a BAR0 offset) lies in a register of the table. */
    public boolean isTracked(long offset) {
        return inFile(offset) && behaviors[(int) offset >>> 2] != 0;
    }

    /**
     * Whether guest commands (LRI, SRM, LRM...) may access the register at {@code offset}: the register
     * has {@link Attr#CMD_ACCESS}. False for any offset outside the table, negative or beyond the file.
     */
    public boolean isCommandAccessible(long offset) {
        return has(offset, Attr.CMD_ACCESS);
    }

    /** Whether the register at {@code offset} has {@code attr}. */
    public boolean has(long offset, Attr attr) {
        return inFile(offset) && (attrs[(int) offset >>> 2] & attr.bit()) != 0;
    }

    /** The row covering {@code offset}, if any. */
    public Optional<Register> rowAt(long offset) {
        if (!inFile(offset) || rowIndex[(int) offset >>> 2] < 0) {
            return Optional.empty();
        }
        return Optional.of(rows.get(rowIndex[(int) offset >>> 2]));
    }

    int attrBits(int dword) {
        return attrs[dword];
    }

    /** The behaviour of dword {@code dword}, or null for an untracked dword. */
    Behavior behavior(int dword) {
        int b = behaviors[dword];
        return b == 0 ? null : Behavior.values()[b - 1];
    }

    boolean tracked(int dword) {
        return behaviors[dword] != 0;
    }

    int resetValue(int dword) {
        return resetValues[dword];
    }

    private static boolean inFile(long offset) {
        return offset >= 0 && offset < MmioSpace.REGISTER_FILE_SIZE;
    }
}
