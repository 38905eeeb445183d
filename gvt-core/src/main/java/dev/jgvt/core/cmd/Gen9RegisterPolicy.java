package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Register;
import dev.jgvt.core.hw.RegisterAttr;
import dev.jgvt.core.hw.RegisterTable;

/**
 * The Gen9 register policy, derived from the register table ({@link RegisterTable#gen9()}, the same table
 * MMIO emulation uses, as GVT-g's {@code F_CMD_ACCESS} decides both): the {@code cmd} registers, the ones
 * LRM/SRM may name ({@code mem}: L3SQCREG4 0xB118 and 0x21F0 on Gen9), no LRR at all (Gen9 allows none),
 * and the {@code patch} registers (DERRMR, FORCEWAKE_MT) whose LRI is redirected to the PVINFO page
 * (0x78000) so it never reaches hardware. Bitmaps over the 2 MiB MMIO window make every answer one array load.
 */
public final class Gen9RegisterPolicy implements RegisterPolicy {
    /** Where patched register writes go: the PVINFO page, which has no hardware behind it. */
    public static final int PATCH_TARGET = 0x78000;
    static final int MMIO_SIZE = Register.FILE_SIZE;

    private final long[] cmd = new long[MMIO_SIZE / 4 / 64];
    private final long[] mem = new long[MMIO_SIZE / 4 / 64];
    private final long[] patch = new long[MMIO_SIZE / 4 / 64];

    private static volatile Gen9RegisterPolicy instance;

    /** The policy of {@code table}'s {@code cmd}, {@code mem} and {@code patch} attributes. */
    public Gen9RegisterPolicy(RegisterTable table) {
        requireNonNull(table, "table is null");
        for (Register row : table.rows()) {
            for (int i = 0; i < row.count(); i++) {
                int dword = row.offsetOf(i) >>> 2;
                mark(cmd, dword, row.has(RegisterAttr.CMD_ACCESS));
                mark(mem, dword, row.has(RegisterAttr.MEMORY_TRANSFER));
                mark(patch, dword, row.has(RegisterAttr.PATCHED));
            }
        }
    }

    private static void mark(long[] bits, int dword, boolean set) {
        if (set) {
            bits[dword >>> 6] |= 1L << dword;
        }
    }

    /** The policy of the bundled Gen9 register table. */
    public static Gen9RegisterPolicy load() {
        Gen9RegisterPolicy policy = instance;
        if (policy == null) {
            policy = new Gen9RegisterPolicy(RegisterTable.gen9());
            instance = policy;
        }
        return policy;
    }

    private static boolean test(long[] bits, int offset) {
        if (offset < 0 || offset > MMIO_SIZE - 4 || (offset & 3) != 0) {
            return false;
        }
        int dword = offset >>> 2;
        return (bits[dword >>> 6] & (1L << dword)) != 0;
    }

    @Override
    public boolean commandAccessible(int offset) {
        return test(cmd, offset);
    }

    @Override
    public boolean memoryTransferAllowed(int offset) {
        return test(mem, offset);
    }

    @Override
    public boolean registerCopyAllowed(int source, int destination) {
        return false;
    }

    @Override
    public int patchedOffset(int offset) {
        return test(patch, offset) ? PATCH_TARGET : -1;
    }
}
