package dev.jgvt.sim.engine;

import dev.jgvt.core.hw.Engine;

/**
 * What a non-privileged batch buffer may do on Gen9 hardware: the rules the software GPU applies to every command
 * fetched from a batch started with the PPGTT address space indicator (and every batch it chains to or calls,
 * which the hardware keeps in the PPGTT). Facts, from the Gen9 command descriptions Intel publishes in its media
 * driver's generated command headers and from i915's command parser:
 *
 * <ul>
 *   <li>MI_BATCH_BUFFER_START's address space indicator: a batch in the PPGTT is non-privileged; a chained or
 *       second-level batch started from a PPGTT batch can only be in the PPGTT ("enforced by hardware").
 *   <li>MI_LOAD_REGISTER_IMM from a non-privileged batch writes only registers of the engine's user-mode
 *       non-privileged list; a write to any other register converts the command to a NOOP. MI_LOAD_REGISTER_MEM
 *       may not update the privileged register range from a non-privileged batch.
 *   <li>A memory access through the global GTT from a non-privileged batch (the "Use Global GTT" bits of
 *       MI_STORE_DATA_IMM, MI_LOAD_REGISTER_MEM, MI_STORE_REGISTER_MEM, MI_COPY_MEM_MEM, ...) is a privilege
 *       access violation; the command does not access memory.
 * </ul>
 *
 * <p>The register list is deliberately smaller than the hardware's: the software GPU only needs the registers it
 * gives meaning to, so it admits those of them that i915's Gen9 command parser lets user batches touch
 * ({@code gen9_blt_regs}, the registers user space may program from an unprivileged blitter batch): the engine's
 * sixteen 64-bit GPRs (ring + 0x600..0x67C), RING_TIMESTAMP and its upper dword (ring + 0x358/0x35C),
 * CTX_TIMESTAMP (ring + 0x3A8) and, on the blitter, BCS_SWCTRL (0x22200). i915's RING_FORCE_TO_NONPRIV slots,
 * which would extend the list, are not honoured: the vGPU drops the guest's writes to them. Register reads
 * (MI_STORE_REGISTER_MEM, the source of MI_LOAD_REGISTER_REG) follow the same list, so a non-privileged batch
 * cannot read registers another vGPU's privileged commands left in the engine's register file.
 */
final class UserMode {
    private final int base;
    private final boolean blitter;

    UserMode(Engine engine) {
        this.base = engine.mmioBase();
        this.blitter = engine == Engine.BCS;
    }

    /** Whether a non-privileged batch may access the register at MMIO {@code offset} (dword aligned). */
    boolean allowed(int offset) {
        int rel = offset - base;
        if (rel >= EngineRegisters.GPR && rel < EngineRegisters.GPR + 16 * 8) {
            return true;
        }
        if (rel == EngineRegisters.TIMESTAMP || rel == EngineRegisters.TIMESTAMP_UDW
                || rel == EngineRegisters.CTX_TIMESTAMP) {
            return true;
        }
        return blitter && offset == BlitCommands.BCS_SWCTRL;
    }

    /** Whether every register of MI_LOAD_REGISTER_IMM's (offset, value) pairs in {@code dw[1..length)} is allowed. */
    boolean allowedPairs(int[] dw, int length) {
        for (int i = 1; i + 1 < length; i += 2) {
            if (!allowed(dw[i] & 0x7FFFFC)) {
                return false;
            }
        }
        return true;
    }
}
