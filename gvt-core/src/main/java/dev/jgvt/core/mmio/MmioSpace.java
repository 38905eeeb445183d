package dev.jgvt.core.mmio;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.gtt.GgttWindow;
import dev.jgvt.core.hw.Register;
import dev.jgvt.core.hw.RegisterAttr;

/**
 * BAR0 of one vGPU: the 2 MiB virtual register file at offset 0 and the GGTT window at 8 MiB.
 *
 * <p>Register accesses dispatch through per-dword arrays (attributes and behaviour from the shared
 * {@link RegisterRegistry}, handlers bound per vGPU), so the access path allocates nothing. 8-byte accesses
 * to the register file are two dword accesses (low first); 1- and 2-byte accesses must be naturally aligned
 * and are merged into the dword. Every dword of the register file is a virtual register (GVT-g's vreg),
 * reset to its golden value: a row without a handler stores writes after its attribute rules, and so does
 * an offset no row describes (initialised 0, plain storage), logged once per offset ({@link AccessLog}).
 * Unaligned accesses and anything in {@code [2 MiB, 8 MiB)} read 0 and drop writes, also logged. Accesses
 * in the GGTT window go to the {@link GgttWindow} unchanged (an 8-byte access is one entry).
 *
 * <p>The caller (the vGPU) checks that {@code [offset, offset + size)} lies inside BAR0 and that size is 1,
 * 2, 4 or 8, and holds the vGPU's lock. Nothing here throws for a guest access.
 */
public final class MmioSpace {
    public static final int REGISTER_FILE_SIZE = Register.FILE_SIZE;
    public static final int DWORDS = REGISTER_FILE_SIZE / 4;
    public static final long GGTT_WINDOW_OFFSET = 8L << 20;
    public static final long GGTT_WINDOW_SIZE = 8L << 20;
    public static final long BAR0_SIZE = 16L << 20;

    private final RegisterRegistry registry;
    private final GgttWindow ggtt;
    private final int[] vreg = new int[DWORDS];
    /**
     * Per dword its handler; where none is bound, null for a plain stored register (no write rule) and one of the
     * two storage handlers below otherwise, so that an access looks at one array only.
     */
    private final RegisterHandler[] handlers = new RegisterHandler[DWORDS];
    /** Dwords no table row describes: stored, and logged once per offset. */
    private final RegisterHandler unknown = new RegisterHandler() {
        @Override
        public int read(int offset) {
            accessLog.record(offset, "read of a register the table does not know (virtual register)");
            return vreg[offset >>> 2];
        }

        @Override
        public void write(int offset, int value) {
            accessLog.record(offset, "write to a register the table does not know (stored)");
            vreg[offset >>> 2] = value;
        }
    };
    /** Rows without a handler whose attributes have a write rule (read-only, mode-masked, write-1-to-clear). */
    private final RegisterHandler ruled = new RegisterHandler() {
        @Override
        public int read(int offset) {
            return vreg[offset >>> 2];
        }

        @Override
        public void write(int offset, int value) {
            vreg[offset >>> 2] = merge(offset, value);
        }
    };
    private final AccessLog accessLog;
    private final String owner;

    public MmioSpace(RegisterRegistry registry, GgttWindow ggtt, String owner) {
        this.registry = requireNonNull(registry, "registry is null");
        this.ggtt = requireNonNull(ggtt, "ggtt is null");
        this.owner = requireNonNull(owner, "owner is null");
        this.accessLog = new AccessLog(owner);
        resetRange(0, REGISTER_FILE_SIZE);
        int rules = RegisterAttr.READ_ONLY.bit() | RegisterAttr.MODE_MASK.bit() | RegisterAttr.WRITE_1_CLEAR.bit();
        for (int dw = 0; dw < DWORDS; dw++) {
            if (!registry.tracked(dw)) {
                handlers[dw] = unknown;
            } else if ((registry.attrBits(dw) & rules) != 0) {
                handlers[dw] = ruled;
            }
        }
    }

    /** Whose register file this is, for log lines ("vGPU 1"). */
    public String owner() {
        return owner;
    }

    public RegisterRegistry registry() {
        return registry;
    }

    /** Serves every row of {@code behavior} with {@code handler} (replacing an earlier binding). */
    public void bind(Behavior behavior, RegisterHandler handler) {
        requireNonNull(behavior, "behavior is null");
        requireNonNull(handler, "handler is null");
        for (Register row : registry.rows()) {
            for (int i = 0; i < row.count(); i++) {
                int dw = row.offsetOf(i) >>> 2;
                if (registry.hasBehavior(dw, behavior)) {
                    handlers[dw] = handler;
                }
            }
        }
    }

    /** Restores the golden value of every register in {@code [from, to)} (byte offsets; 0 where no row is). */
    public void resetRange(int from, int to) {
        for (int dw = from >>> 2; dw < to >>> 2; dw++) {
            vreg[dw] = registry.resetValue(dw);
        }
    }

    /** The stored value of the register at {@code offset} (no handler, no side effect). */
    public int get(int offset) {
        return vreg[offset >>> 2];
    }

    /** Stores {@code value} in the register file at {@code offset} (no handler, no attribute rules). */
    public void set(int offset, int value) {
        vreg[offset >>> 2] = value;
    }

    /**
     * The default write rule of the register at {@code offset} applied to a guest write of {@code value}:
     * read-only keeps the old value, mode-masked takes the bits enabled by the upper half (the upper half
     * reads 0), write-1-to-clear clears the written ones bits.
     */
    public int merge(int offset, int value) {
        int attrs = registry.attrBits(offset >>> 2);
        int old = vreg[offset >>> 2];
        if ((attrs & RegisterAttr.READ_ONLY.bit()) != 0) {
            return old;
        }
        if ((attrs & RegisterAttr.MODE_MASK.bit()) != 0) {
            int mask = value >>> 16;
            return ((old & ~mask) | (value & mask)) & 0xFFFF;
        }
        if ((attrs & RegisterAttr.WRITE_1_CLEAR.bit()) != 0) {
            return old & ~value;
        }
        return value;
    }

    /**
     * Accesses no table row describes so far: offsets without a row (served as plain virtual registers),
     * unaligned accesses and accesses outside the register file and the GGTT window (dropped).
     */
    public long unhandledAccesses() {
        return accessLog.count();
    }

    /** {@link #unhandledAccesses()} per BAR0 offset (dword aligned; the first 4096 distinct offsets), in offset order. */
    public java.util.Map<Long, Long> unhandledByOffset() {
        return accessLog.perOffset();
    }

    /** Logs (once per offset, rate limited) that a guest access at {@code offset} was not served as asked. */
    public void logDropped(long offset, String why) {
        accessLog.record(offset, why);
    }

    /** A guest read; see the class comment. */
    public long read(long offset, int size) {
        if (offset >= GGTT_WINDOW_OFFSET) {
            return ggtt.read(offset - GGTT_WINDOW_OFFSET, size);
        }
        if (offset >= REGISTER_FILE_SIZE || (offset & (size - 1)) != 0) {
            accessLog.record(offset, offset >= REGISTER_FILE_SIZE ? "read outside the register file" : "unaligned read");
            return 0;
        }
        int off = (int) offset;
        return switch (size) {
            case 8 -> (readDword(off) & 0xFFFFFFFFL) | ((long) readDword(off + 4) << 32);
            case 4 -> readDword(off) & 0xFFFFFFFFL;
            default -> {
                int shift = 8 * (off & 3);
                long mask = size == 1 ? 0xFF : 0xFFFF;
                yield (readDword(off & ~3) >>> shift) & mask;
            }
        };
    }

    /** A guest write; see the class comment. */
    public void write(long offset, int size, long value) {
        if (offset >= GGTT_WINDOW_OFFSET) {
            ggtt.write(offset - GGTT_WINDOW_OFFSET, size, value);
            return;
        }
        if (offset >= REGISTER_FILE_SIZE || (offset & (size - 1)) != 0) {
            accessLog.record(offset, offset >= REGISTER_FILE_SIZE ? "write outside the register file" : "unaligned write");
            return;
        }
        int off = (int) offset;
        switch (size) {
            case 8 -> {
                writeDword(off, (int) value);
                writeDword(off + 4, (int) (value >>> 32));
            }
            case 4 -> writeDword(off, (int) value);
            default -> {
                int dwordOffset = off & ~3;
                int shift = 8 * (off & 3);
                int mask = (size == 1 ? 0xFF : 0xFFFF) << shift;
                boolean w1c = registry.tracked(dwordOffset >>> 2)
                        && (registry.attrBits(dwordOffset >>> 2) & RegisterAttr.WRITE_1_CLEAR.bit()) != 0;
                int others = w1c ? 0 : currentValue(dwordOffset);
                writeDword(dwordOffset, (others & ~mask) | (((int) value << shift) & mask));
            }
        }
    }

    private int currentValue(int offset) {
        RegisterHandler handler = handlers[offset >>> 2];
        return handler == null || handler == unknown || handler == ruled ? vreg[offset >>> 2] : handler.read(offset);
    }

    private int readDword(int offset) {
        int dw = offset >>> 2;
        RegisterHandler handler = handlers[dw];
        return handler == null ? vreg[dw] : handler.read(offset);
    }

    private void writeDword(int offset, int value) {
        int dw = offset >>> 2;
        RegisterHandler handler = handlers[dw];
        if (handler == null) {
            vreg[dw] = value; // a plain register: no write rule
        } else {
            handler.write(offset, value);
        }
    }
}
