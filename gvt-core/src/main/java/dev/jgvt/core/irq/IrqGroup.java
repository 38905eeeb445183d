package dev.jgvt.core.irq;

/**
 * The GEN8+ interrupt register groups below the master control (0x44200). Each has ISR at +0, IMR at +4,
 * IIR at +8 and IER at +0xC; pending bits (IIR &amp; IER) set summary bits in the master register.
 */
public enum IrqGroup {
    /** Render (bits 15:0 → master bit 0) and blitter (bits 31:16 → master bit 1). */
    GT0(0x44300, 0, 1),
    /** VCS0 (bits 15:0 → master bit 2) and VCS1 (bits 31:16 → master bit 3). */
    GT1(0x44310, 2, 3),
    /** PM / GuC → master bit 4. */
    GT2(0x44320, 4, 4),
    /** VECS → master bit 6. */
    GT3(0x44330, 6, 6),
    DE_PIPE_A(0x44400, 16, 16),
    DE_PIPE_B(0x44410, 17, 17),
    DE_PIPE_C(0x44420, 18, 18),
    DE_PORT(0x44440, 20, 20),
    DE_MISC(0x44460, 22, 22),
    PCU(0x444E0, 30, 30);

    public static final int ISR = 0x0;
    public static final int IMR = 0x4;
    public static final int IIR = 0x8;
    public static final int IER = 0xC;

    private final int base;
    private final int lowMasterBit;
    private final int highMasterBit;

    IrqGroup(int base, int lowMasterBit, int highMasterBit) {
        this.base = base;
        this.lowMasterBit = lowMasterBit;
        this.highMasterBit = highMasterBit;
    }

    /** BAR0 offset of the group's ISR. */
    public int base() {
        return base;
    }

    /** The master summary bits that {@code pending} (IIR &amp; IER of this group) sets. */
    int summary(int pending) {
        int bits = 0;
        if ((pending & 0xFFFF) != 0) {
            bits |= 1 << lowMasterBit;
        }
        if ((pending & 0xFFFF0000) != 0) {
            bits |= 1 << highMasterBit;
        }
        return bits;
    }

    /** All master summary bits this group can set. */
    int summaryMask() {
        return (1 << lowMasterBit) | (1 << highMasterBit);
    }
}
