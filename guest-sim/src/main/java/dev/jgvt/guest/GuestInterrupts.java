package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

/**
 * The guest driver's side of the Gen8+ interrupt hierarchy: a master control register (bit 31 enables,
 * the other bits summarise which group has a pending interrupt) over groups of ISR/IMR/IIR/IER registers.
 * A guest unmasks and enables the events it wants, turns the master on, and in its MSI handler turns the
 * master off, reads and clears the IIRs the master names, and turns the master back on.
 */
public final class GuestInterrupts {
    static final long MASTER = 0x44200;
    static final int MASTER_ENABLE = 1 << 31;
    /** GT0's block (ISR at +0, IMR +4, IIR +8, IER +0xC); its summary bit in the master is bit 0. */
    static final long GT0 = 0x44300;
    static final int GT0_SUMMARY = 1;

    /** GT0 bits: render user interrupt, render context switch, blitter user interrupt, blitter context switch. */
    public static final int RCS_USER = 1;
    public static final int RCS_CONTEXT_SWITCH = 1 << 8;
    public static final int BCS_USER = 1 << 16;
    public static final int BCS_CONTEXT_SWITCH = 1 << 24;

    private final GuestPlatform platform;

    public GuestInterrupts(GuestPlatform platform) {
        this.platform = requireNonNull(platform, "platform is null");
    }

    /** Unmasks and enables {@code bits} of GT0 and turns the master enable on. */
    public void enableGt0(int bits) {
        long imr = platform.mmioRead(GuestPlatform.BAR0, GT0 + 4, 4);
        platform.mmioWrite(GuestPlatform.BAR0, GT0 + 4, 4, imr & ~(bits & 0xFFFF_FFFFL));
        long ier = platform.mmioRead(GuestPlatform.BAR0, GT0 + 0xC, 4);
        platform.mmioWrite(GuestPlatform.BAR0, GT0 + 0xC, 4, ier | (bits & 0xFFFF_FFFFL));
        platform.mmioWrite(GuestPlatform.BAR0, MASTER, 4, MASTER_ENABLE & 0xFFFF_FFFFL);
    }

    /**
     * The MSI handler: masks the master, collects and clears GT0's IIR if the master says it is pending,
     * unmasks the master. Returns the GT0 bits that were pending (0 for a spurious interrupt).
     */
    public int handle() {
        platform.mmioWrite(GuestPlatform.BAR0, MASTER, 4, 0);
        long master = platform.mmioRead(GuestPlatform.BAR0, MASTER, 4);
        int pending = 0;
        if ((master & GT0_SUMMARY) != 0) {
            pending = (int) platform.mmioRead(GuestPlatform.BAR0, GT0 + 8, 4);
            platform.mmioWrite(GuestPlatform.BAR0, GT0 + 8, 4, pending & 0xFFFF_FFFFL);
        }
        platform.mmioWrite(GuestPlatform.BAR0, MASTER, 4, MASTER_ENABLE & 0xFFFF_FFFFL);
        return pending;
    }
}
