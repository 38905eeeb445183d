package dev.jgvt.core.exec;

/**
 * A Gen8+ execlist context descriptor as the guest writes it to ELSP (gvt-g.md §7.1): low dword bit 0 valid,
 * bit 1 force PD restore, bit 2 force restore, bits 4:3 addressing mode, bit 5 LLC coherent, bits 7:6 fault
 * handling, bit 8 privilege access / PPGTT enable, bits 31:12 the LRCA (GGTT address of the logical ring
 * context); high dword the context id.
 */
record ContextDescriptor(long raw) {
    /** Addressing mode: legacy 32-bit, 3-level PPGTT. */
    static final int LEGACY_32 = 1;
    /** Addressing mode: 48-bit, 4-level PPGTT. */
    static final int LEGACY_64 = 3;

    boolean valid() {
        return (raw & 1) != 0;
    }

    int addressingMode() {
        return (int) (raw >>> 3) & 3;
    }

    boolean ppgtt() {
        return (raw & (1 << 8)) != 0;
    }

    /** The GGTT address of the context (page 0: per-process HWSP, page 1: register state). */
    long lrca() {
        return raw & 0xFFFF_F000L;
    }

    int contextId() {
        return (int) (raw >>> 32);
    }

    @Override
    public String toString() {
        return String.format("descriptor 0x%016x (LRCA 0x%x, id %d, mode %d%s)", raw, lrca(), contextId(),
                addressingMode(), ppgtt() ? ", PPGTT" : ", GGTT only");
    }
}
