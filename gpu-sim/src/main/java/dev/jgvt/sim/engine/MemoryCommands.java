package dev.jgvt.sim.engine;

import dev.jgvt.core.hw.CsTimestamp;
import dev.jgvt.sim.GpuAddressSpace;

/**
 * The memory and register commands of a {@link CommandStreamer}: MI_STORE_DATA_IMM, MI_LOAD_REGISTER_IMM/MEM/REG,
 * MI_STORE_REGISTER_MEM, MI_FLUSH_DW and PIPE_CONTROL post-syncs, MI_CONDITIONAL_BATCH_BUFFER_END. Each reads the
 * current command from the streamer's {@code dw} and, in a non-privileged batch, first asks
 * {@link CommandStreamer#violates} whether it uses a privilege it does not have ({@link UserMode}).
 */
final class MemoryCommands {
    private static final int GGTT_BIT = 1 << 22;
    private static final int NOTIFY = 1 << 8;
    private static final int STORE_INDEX = 1 << 21;
    private static final int PC_MMIO_WRITE = 1 << 23;
    private static final int COMPARE_SEMAPHORE = 1 << 21;

    private final CommandStreamer s;

    MemoryCommands(CommandStreamer streamer) {
        this.s = streamer;
    }

    void storeDataImm(int length) {
        s.requireLength(length, 4);
        if (s.violates((s.dw[0] & GGTT_BIT) != 0)) {
            return;
        }
        GpuAddressSpace space = s.space((s.dw[0] & GGTT_BIT) != 0);
        long address = CommandStreamer.address(s.dw[1], s.dw[2]);
        for (int i = 3; i < length; i++) {
            s.walker.writeInt(space, address + 4L * (i - 3), s.dw[i]);
        }
    }

    void loadRegisterImm(int length) {
        if ((length - 1) % 2 != 0) {
            throw s.illegal("register/value pairs expected, " + (length - 1) + " dwords follow the header");
        }
        if (s.violates(!s.userMode.allowedPairs(s.dw, length))) {
            return; // one register outside the user-mode list drops the whole command
        }
        for (int i = 1; i < length; i += 2) {
            s.registers.write(s.dw[i] & 0x7FFFFC, s.dw[i + 1]);
        }
    }

    void storeRegisterMem(int length) {
        s.requireLength(length, 4);
        if (s.violates((s.dw[0] & GGTT_BIT) != 0 || !s.userRegister(s.dw[1]))) {
            return;
        }
        s.walker.writeInt(s.space((s.dw[0] & GGTT_BIT) != 0), CommandStreamer.address(s.dw[2], s.dw[3]),
                s.registers.read(s.dw[1] & 0x7FFFFC));
    }

    void loadRegisterMem(int length) {
        s.requireLength(length, 4);
        if (s.violates((s.dw[0] & GGTT_BIT) != 0 || !s.userRegister(s.dw[1]))) {
            return;
        }
        int value = s.walker.readInt(s.space((s.dw[0] & GGTT_BIT) != 0), CommandStreamer.address(s.dw[2], s.dw[3]));
        s.registers.write(s.dw[1] & 0x7FFFFC, value);
    }

    void loadRegisterReg(int length) {
        s.requireLength(length, 3);
        if (s.violates(!s.userRegister(s.dw[1]) || !s.userRegister(s.dw[2]))) {
            return;
        }
        s.registers.write(s.dw[2] & 0x7FFFFC, s.registers.read(s.dw[1] & 0x7FFFFC));
    }

    void flushDw(int length) {
        int op = (s.dw[0] >>> 14) & 3;
        if (op != 0) {
            s.requireLength(length, 4);
            if (s.violates((s.dw[1] & 4) != 0 || (s.dw[0] & STORE_INDEX) != 0)) {
                return; // a post-sync write to the GGTT or the status page
            }
            if ((s.dw[0] & STORE_INDEX) != 0) {
                throw s.illegal("store data index (HWSP-relative address) is not supported");
            }
            postSync(op, s.space((s.dw[1] & 4) != 0), CommandStreamer.address(s.dw[1] & ~7, s.dw[2]), 3, length);
        }
        if ((s.dw[0] & NOTIFY) != 0) {
            s.event(EngineEvent.Kind.FLUSH_DW_NOTIFY);
        }
    }

    void pipeControl(int length) {
        s.requireLength(length, 2);
        int op = (s.dw[1] >>> 14) & 3;
        if (s.violates((s.dw[1] & PC_MMIO_WRITE) != 0
                || (op != 0 && (s.dw[1] & ((1 << 24) | STORE_INDEX)) != 0))) {
            return; // an MMIO write, or a post-sync write to the GGTT or the status page
        }
        if ((s.dw[1] & PC_MMIO_WRITE) != 0) {
            throw s.illegal("the MMIO write post-sync operation is not supported");
        }
        if (op != 0) {
            s.requireLength(length, 5);
            if ((s.dw[1] & STORE_INDEX) != 0) {
                throw s.illegal("store data index (HWSP-relative address) is not supported");
            }
            postSync(op, s.space((s.dw[1] & (1 << 24)) != 0), CommandStreamer.address(s.dw[2], s.dw[3]), 4, length);
        }
        if ((s.dw[1] & NOTIFY) != 0) {
            s.event(EngineEvent.Kind.PIPE_CONTROL_NOTIFY);
        }
    }

    /** Post-sync operation 1 writes the immediate dword(s) from {@code dataIndex}; 3 writes a 64-bit timestamp. */
    private void postSync(int op, GpuAddressSpace space, long address, int dataIndex, int length) {
        switch (op) {
            case 1 -> {
                s.walker.writeInt(space, address, s.dw[dataIndex]);
                if (length > dataIndex + 1) {
                    s.walker.writeInt(space, address + 4, s.dw[dataIndex + 1]);
                }
            }
            case 3 -> {
                long timestamp = CsTimestamp.now();
                s.walker.writeInt(space, address, (int) timestamp);
                s.walker.writeInt(space, address + 4, (int) (timestamp >>> 32));
            }
            default -> throw s.illegal("post-sync operation " + op + " is not supported");
        }
    }

    /**
     * MI_CONDITIONAL_BATCH_BUFFER_END: ends the current batch (as MI_BATCH_BUFFER_END) when the dword at DW2/DW3
     * (GGTT when DW0 bit 22, else the context's PPGTT) is less than or equal to the compare data DW1 (unsigned;
     * DW0 bit 21 clear compares against 0). The compare mask mode (DW0 bit 19) is not modelled.
     */
    void conditionalBatchBufferEnd(int length) {
        s.requireLength(length, 3);
        if (s.violates((s.dw[0] & GGTT_BIT) != 0)) {
            return; // a GGTT read: the batch goes on
        }
        int data = (s.dw[0] & COMPARE_SEMAPHORE) != 0 ? s.dw[1] : 0;
        long address = CommandStreamer.address(s.dw[2] & ~7, length > 3 ? s.dw[3] : 0);
        int memory = s.walker.readInt(s.space((s.dw[0] & GGTT_BIT) != 0), address);
        if (Integer.compareUnsigned(memory, data) <= 0) {
            s.batchBufferEnd(length);
        }
    }
}
