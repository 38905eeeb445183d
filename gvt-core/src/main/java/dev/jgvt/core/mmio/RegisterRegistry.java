package dev.jgvt.core.mmio;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Register;
import dev.jgvt.core.hw.RegisterAttr;
import dev.jgvt.core.hw.RegisterTable;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The register table ({@link RegisterTable}) compiled for MMIO emulation: per dword of the 2 MiB register
 * file, the attribute word, the golden value and the {@link Behavior} its row's handler name resolves to
 * (the handler registry: table rows name handlers, {@link MmioSpace#bind} connects names to code). Immutable
 * and shared by every vGPU of a generation; lookups allocate nothing.
 */
public final class RegisterRegistry {
    private static volatile RegisterRegistry gen9;

    private final RegisterTable table;
    /** Behaviour ordinal + 1 per dword; 0 = plain virtual register or no row. */
    private final byte[] behaviors = new byte[MmioSpace.DWORDS];

    /**
     * Compiles {@code table}.
     *
     * @throws IllegalArgumentException if a row names a handler no {@link Behavior} has
     */
    public RegisterRegistry(RegisterTable table) {
        this.table = requireNonNull(table, "table is null");
        for (Register row : table.rows()) {
            if (!row.hasHandler()) {
                continue;
            }
            Behavior behavior = behavior(row);
            for (int i = 0; i < row.count(); i++) {
                behaviors[row.offsetOf(i) >>> 2] = (byte) (behavior.ordinal() + 1);
            }
        }
    }

    private static Behavior behavior(Register row) {
        try {
            return Behavior.valueOf(row.handler().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("register " + row.name() + " at 0x" + Integer.toHexString(row.offset())
                    + " names an unknown handler '" + row.handler() + "' (known: " + Behavior.names() + ")", e);
        }
    }

    /** The Gen9 (Skylake) registry, compiled from {@link RegisterTable#gen9()} once. */
    public static RegisterRegistry gen9() {
        RegisterRegistry registry = gen9;
        if (registry == null) {
            synchronized (RegisterRegistry.class) {
                registry = gen9;
                if (registry == null) {
                    registry = new RegisterRegistry(RegisterTable.gen9());
                    gen9 = registry;
                }
            }
        }
        return registry;
    }

    /** The table this registry was compiled from. */
    public RegisterTable table() {
        return table;
    }

    /** The table rows, in order. */
    public List<Register> rows() {
        return table.rows();
    }

    /** Whether {@code offset} (a BAR0 offset) lies in a register of the table. */
    public boolean isTracked(long offset) {
        return table.isTracked(offset);
    }

    /** Whether the register at {@code offset} has {@code attr}. */
    public boolean has(long offset, RegisterAttr attr) {
        return table.has(offset, attr);
    }

    /** The row covering {@code offset}, if any. */
    public Optional<Register> rowAt(long offset) {
        return table.rowAt(offset);
    }

    /** The behaviour of the row covering {@code offset}: its handler's, {@link Behavior#STORE} without one. */
    public Optional<Behavior> behaviorAt(long offset) {
        if (!table.isTracked(offset)) {
            return Optional.empty();
        }
        Behavior b = behavior((int) offset >>> 2);
        return Optional.of(b == null ? Behavior.STORE : b);
    }

    int attrBits(int dword) {
        return table.attrBitsOfDword(dword);
    }

    /** The handler behaviour of dword {@code dword}, or null for a plain or untracked dword. */
    Behavior behavior(int dword) {
        int b = behaviors[dword];
        return b == 0 ? null : Behavior.values()[b - 1];
    }

    boolean hasBehavior(int dword, Behavior behavior) {
        return behaviors[dword] == behavior.ordinal() + 1;
    }

    boolean tracked(int dword) {
        return table.rowIndexOfDword(dword) >= 0;
    }

    int resetValue(int dword) {
        return table.goldenOfDword(dword);
    }
}
