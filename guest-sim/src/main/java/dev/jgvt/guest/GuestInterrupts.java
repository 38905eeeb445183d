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
    /** GT0's block (ISR at +0, IMR +4, IIR +8, IER +0xC): render bits 15:0 (master bit 0), blitter 31:16 (bit 1). */
    static final long GT0 = 0x44300;
    static final int GT0_SUMMARY = 0b11;
    /** Display pipe A's block; master bit 16. */
    static final long PIPE_A = 0x44400;
    static final int PIPE_A_SUMMARY = 1 << 16;

    /** GT0 bits: render user interrupt, render context switch, blitter user interrupt, blitter context switch. */
    public static final int RCS_USER = 1;
    public static final int RCS_CONTEXT_SWITCH = 1 << 8;
    public static final int BCS_USER = 1 << 16;
    public static final int BCS_CONTEXT_SWITCH = 1 << 24;
    /** Pipe A bits: vblank, primary plane flip done. */
    public static final int PIPE_VBLANK = 1;
    public static final int PIPE_FLIP_DONE = 1 << 3;

    /** What one MSI handler run found pending, per group. */
    public record Pending(int gt0, int pipeA) {
        public boolean none() {
            return gt0 == 0 && pipeA == 0;
        }
    }

    private final GuestPlatform platform;

    public GuestInterrupts(GuestPlatform platform) {
        this.platform = requireNonNull(platform, "platform is null");
    }

    /** Unmasks and enables {@code bits} of GT0 and turns the master enable on. */
    public void enableGt0(int bits) {
        enable(GT0, bits);
    }

    /** Unmasks and enables {@code bits} of display pipe A and turns the master enable on. */
    public void enablePipeA(int bits) {
        enable(PIPE_A, bits);
    }

    private void enable(long group, int bits) {
        long imr = platform.mmioRead(GuestPlatform.BAR0, group + 4, 4);
        platform.mmioWrite(GuestPlatform.BAR0, group + 4, 4, imr & ~(bits & 0xFFFF_FFFFL));
        long ier = platform.mmioRead(GuestPlatform.BAR0, group + 0xC, 4);
        platform.mmioWrite(GuestPlatform.BAR0, group + 0xC, 4, ier | (bits & 0xFFFF_FFFFL));
        platform.mmioWrite(GuestPlatform.BAR0, MASTER, 4, MASTER_ENABLE & 0xFFFF_FFFFL);
    }

    /**
     * The MSI handler: masks the master, collects and clears the IIRs the master names, unmasks the master.
     * Returns what was pending (nothing for a spurious interrupt).
     */
    public Pending handle() {
        platform.mmioWrite(GuestPlatform.BAR0, MASTER, 4, 0);
        long master = platform.mmioRead(GuestPlatform.BAR0, MASTER, 4);
        int gt0 = (master & GT0_SUMMARY) != 0 ? take(GT0) : 0;
        int pipeA = (master & PIPE_A_SUMMARY) != 0 ? take(PIPE_A) : 0;
        platform.mmioWrite(GuestPlatform.BAR0, MASTER, 4, MASTER_ENABLE & 0xFFFF_FFFFL);
        return new Pending(gt0, pipeA);
    }

    private int take(long group) {
        long iir = platform.mmioRead(GuestPlatform.BAR0, group + 8, 4);
        platform.mmioWrite(GuestPlatform.BAR0, group + 8, 4, iir);
        return (int) iir;
    }
}
