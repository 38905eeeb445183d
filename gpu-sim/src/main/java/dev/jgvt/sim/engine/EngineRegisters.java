package dev.jgvt.sim.engine;

import dev.jgvt.core.hw.CsTimestamp;

/**
 * One engine's registers as its commands see them: a {@link RegisterFile} for plain state, the live timestamp
 * registers, and the command streamer's ALU (MI_MATH) over the sixteen 64-bit general purpose registers.
 *
 * <p>Live registers (relative to the engine's MMIO base): RING_TIMESTAMP (+0x358) and its upper dword (+0x35C)
 * read the host's {@link CsTimestamp} clock; CTX_TIMESTAMP (+0x3A8) reads its low dword too (the context's
 * timestamp is not saved and restored with a context: it runs with the engine's clock, which gives the same
 * differences within one run of a context). Writes to them are ignored.
 *
 * <p>MI_MATH (Gen9 ALU): each dword is an instruction, opcode bits 31:20, operand 1 bits 19:10, operand 2 bits
 * 9:0. LOAD/LOADINV/LOAD0/LOAD1 fill SRCA or SRCB from a GPR (inverted), 0 or 1; ADD, SUB, AND, OR, XOR combine
 * SRCA and SRCB into ACCU and set ZF (ACCU is 0) and CF (carry out of ADD, borrow of SUB); STORE/STOREINV write
 * SRCA, SRCB, ACCU, ZF or CF (the flags as all ones when set) into a GPR (inverted). An unknown opcode or
 * operand is ignored. Registers: GPR n = operand n (0..15), SRCA 0x20, SRCB 0x21, ACCU 0x31, ZF 0x32, CF 0x33.
 */
final class EngineRegisters {
    static final int TIMESTAMP = 0x358;
    static final int TIMESTAMP_UDW = 0x35C;
    static final int CTX_TIMESTAMP = 0x3A8;
    static final int GPR = 0x600;

    private static final int LOAD = 0x080;
    private static final int LOADINV = 0x480;
    private static final int LOAD0 = 0x081;
    private static final int LOAD1 = 0x481;
    private static final int ADD = 0x100;
    private static final int SUB = 0x101;
    private static final int AND = 0x102;
    private static final int OR = 0x103;
    private static final int XOR = 0x104;
    private static final int STORE = 0x180;
    private static final int STOREINV = 0x580;
    private static final int SRCA = 0x20;
    private static final int SRCB = 0x21;
    private static final int ACCU = 0x31;
    private static final int ZF = 0x32;
    private static final int CF = 0x33;

    private final int base;
    private final RegisterFile file = new RegisterFile();
    private long srcA;
    private long srcB;
    private long accu;
    private boolean zf;
    private boolean cf;

    EngineRegisters(int mmioBase) {
        this.base = mmioBase;
    }

    /** The value of the register at MMIO {@code offset} (dword aligned). */
    int read(int offset) {
        switch (offset - base) {
            case TIMESTAMP, CTX_TIMESTAMP -> {
                return (int) CsTimestamp.now();
            }
            case TIMESTAMP_UDW -> {
                return (int) (CsTimestamp.now() >>> 32);
            }
            default -> {
                return file.read(offset);
            }
        }
    }

    /** Writes the register at MMIO {@code offset} (dword aligned); the live timestamps ignore writes. */
    void write(int offset, int value) {
        int relative = offset - base;
        if (relative == TIMESTAMP || relative == TIMESTAMP_UDW || relative == CTX_TIMESTAMP) {
            return;
        }
        file.write(offset, value);
    }

    /** The sixteen GPRs (a workload's register state that must survive another workload running in between). */
    long[] saveGprs() {
        long[] gprs = new long[16];
        for (int n = 0; n < 16; n++) {
            gprs[n] = gpr(n);
        }
        return gprs;
    }

    /** Puts back GPRs {@link #saveGprs} returned; an empty array clears them (a fresh workload). */
    void restoreGprs(long[] gprs) {
        for (int n = 0; n < 16; n++) {
            storeGpr(n, n < gprs.length ? gprs[n] : 0);
        }
    }

    /** Executes the ALU instructions {@code dw[1 .. length-1]} of an MI_MATH. */
    void math(int[] dw, int length) {
        for (int i = 1; i < length; i++) {
            int instruction = dw[i];
            int opcode = instruction >>> 20;
            int op1 = (instruction >>> 10) & 0x3FF;
            int op2 = instruction & 0x3FF;
            switch (opcode) {
                case LOAD -> load(op1, gpr(op2));
                case LOADINV -> load(op1, ~gpr(op2));
                case LOAD0 -> load(op1, 0);
                case LOAD1 -> load(op1, 1);
                case ADD -> {
                    long sum = srcA + srcB;
                    cf = Long.compareUnsigned(sum, srcA) < 0;
                    result(sum);
                }
                case SUB -> {
                    cf = Long.compareUnsigned(srcA, srcB) < 0;
                    result(srcA - srcB);
                }
                case AND -> result(srcA & srcB);
                case OR -> result(srcA | srcB);
                case XOR -> result(srcA ^ srcB);
                case STORE -> storeGpr(op1, alu(op2));
                case STOREINV -> storeGpr(op1, ~alu(op2));
                default -> {
                    // NOOP and opcodes this ALU does not model
                }
            }
        }
    }

    private void load(int register, long value) {
        if (register == SRCA) {
            srcA = value;
        } else if (register == SRCB) {
            srcB = value;
        }
    }

    private void result(long value) {
        accu = value;
        zf = value == 0;
    }

    private long alu(int register) {
        return switch (register) {
            case SRCA -> srcA;
            case SRCB -> srcB;
            case ACCU -> accu;
            case ZF -> zf ? -1L : 0;
            case CF -> cf ? -1L : 0;
            default -> register < 16 ? gpr(register) : 0;
        };
    }

    private long gpr(int n) {
        if (n >= 16) {
            return 0;
        }
        int at = base + GPR + 8 * n;
        return (file.read(at) & 0xFFFF_FFFFL) | ((long) file.read(at + 4) << 32);
    }

    private void storeGpr(int n, long value) {
        if (n >= 16) {
            return;
        }
        int at = base + GPR + 8 * n;
        file.write(at, (int) value);
        file.write(at + 4, (int) (value >>> 32));
    }
}
