package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The guest driver's side of the Gen8+ interrupt hierarchy: a master control register (bit 31 enables,
 * the other bits summarise which group has a pending interrupt) over groups of ISR/IMR/IIR/IER registers.
 * A guest unmasks and enables the events it wants, turns the master on, and in its MSI handler turns the
 * master off, reads and clears the IIRs the master names, and turns the master back on.
 *
 * <p>Bits the handler collects are also kept, per group, until a waiter {@linkplain #consume consumes}
 * them: one handler run may find events several waiters care about (a flip and two engines' context switches).
 */
public final class GuestInterrupts {
    private static final Duration POLL = Duration.ofMillis(10);
    static final long MASTER = 0x44200;
    static final int MASTER_ENABLE = 1 << 31;
    /** GT0's block (ISR at +0, IMR +4, IIR +8, IER +0xC): render bits 15:0 (master bit 0), blitter 31:16 (bit 1). */
    static final long GT0 = 0x44300;
    static final int GT0_SUMMARY = 0b11;
    /** Display pipe A's block; master bit 16. */
    static final long PIPE_A = 0x44400;
    static final int PIPE_A_SUMMARY = 1 << 16;

    /** An interrupt group: its register block and the master summary bits it sets. */
    public enum Group {
        /** Render bits 15:0 (master bit 0), blitter bits 31:16 (master bit 1). */
        GT0(GuestInterrupts.GT0, GT0_SUMMARY),
        /** Video VCS0 bits 15:0 (master bit 2), VCS1 bits 31:16 (master bit 3). */
        GT1(0x44310, 0b1100),
        /** Video enhancement (VECS) bits 15:0, master bit 6. */
        GT3(0x44330, 1 << 6),
        /** Display pipe A, master bit 16. */
        PIPE_A(GuestInterrupts.PIPE_A, PIPE_A_SUMMARY);

        private final long block;
        private final int summary;

        Group(long block, int summary) {
            this.block = block;
            this.summary = summary;
        }
    }

    /** GT0 bits: render user interrupt, render context switch, blitter user interrupt, blitter context switch. */
    public static final int RCS_USER = 1;
    public static final int RCS_CONTEXT_SWITCH = 1 << 8;
    public static final int BCS_USER = 1 << 16;
    public static final int BCS_CONTEXT_SWITCH = 1 << 24;
    /** GT1 bits: VCS0 user interrupt and context switch; GT3 bits: the same for VECS. */
    public static final int VCS0_USER = 1;
    public static final int VCS0_CONTEXT_SWITCH = 1 << 8;
    public static final int VECS_USER = 1;
    public static final int VECS_CONTEXT_SWITCH = 1 << 8;
    /** Pipe A bits: vblank, primary plane flip done. */
    public static final int PIPE_VBLANK = 1;
    public static final int PIPE_FLIP_DONE = 1 << 3;

    /** What one MSI handler run found pending, per group. */
    public record Pending(int gt0, int gt1, int gt3, int pipeA) {
        public boolean none() {
            return gt0 == 0 && gt1 == 0 && gt3 == 0 && pipeA == 0;
        }
    }

    private final GuestPlatform platform;
    private static final Group[] GROUPS = Group.values();
    private final int[] kept = new int[GROUPS.length];
    /** What the last handler run found, per group. */
    private final int[] found = new int[GROUPS.length];
    private long handled;

    public GuestInterrupts(GuestPlatform platform) {
        this.platform = requireNonNull(platform, "platform is null");
    }

    /** Unmasks and enables {@code bits} of GT0 and turns the master enable on. */
    public void enableGt0(int bits) {
        enable(Group.GT0, bits);
    }

    /** Unmasks and enables {@code bits} of display pipe A and turns the master enable on. */
    public void enablePipeA(int bits) {
        enable(Group.PIPE_A, bits);
    }

    /** Unmasks and enables {@code bits} of {@code group} and turns the master enable on. */
    public void enable(Group group, int bits) {
        long imr = platform.mmioRead(GuestPlatform.BAR0, group.block + 4, 4);
        platform.mmioWrite(GuestPlatform.BAR0, group.block + 4, 4, imr & ~(bits & 0xFFFF_FFFFL));
        long ier = platform.mmioRead(GuestPlatform.BAR0, group.block + 0xC, 4);
        platform.mmioWrite(GuestPlatform.BAR0, group.block + 0xC, 4, ier | (bits & 0xFFFF_FFFFL));
        platform.mmioWrite(GuestPlatform.BAR0, MASTER, 4, MASTER_ENABLE & 0xFFFF_FFFFL);
    }

    /**
     * The MSI handler: masks the master, collects and clears the IIRs the master names, unmasks the master.
     * Returns what was pending (nothing for a spurious interrupt) and keeps it for {@link #consume}.
     */
    public Pending handle() {
        run();
        return new Pending(found[Group.GT0.ordinal()], found[Group.GT1.ordinal()], found[Group.GT3.ordinal()],
                found[Group.PIPE_A.ordinal()]);
    }

    /** The handler's accesses; what it found is left in {@link #found}. */
    private void run() {
        platform.mmioWrite(GuestPlatform.BAR0, MASTER, 4, 0);
        long master = platform.mmioRead(GuestPlatform.BAR0, MASTER, 4);
        for (Group group : GROUPS) {
            int i = group.ordinal();
            found[i] = 0;
            if ((master & group.summary) != 0) {
                found[i] = take(group.block);
                kept[i] |= found[i];
            }
        }
        platform.mmioWrite(GuestPlatform.BAR0, MASTER, 4, MASTER_ENABLE & 0xFFFF_FFFFL);
    }

    /** Whether any of {@code bits} of {@code group} was handled since it was last consumed; clears them. */
    public boolean consume(Group group, int bits) {
        return take(group, bits) != 0;
    }

    /** Which of {@code bits} of {@code group} were handled since they were last consumed; clears them. */
    public int take(Group group, int bits) {
        int seen = kept[group.ordinal()] & bits;
        kept[group.ordinal()] &= ~bits;
        return seen;
    }

    /**
     * Runs the handler whenever MSIs arrived and returns as soon as {@code done} says so, or false after
     * {@code timeout}. {@code done} is asked after each handler run and at least every 10 ms, so it may also
     * poll memory the device writes.
     */
    public boolean awaitUntil(BooleanSupplier done, Duration timeout) throws InterruptedException {
        long deadline = 0; // the clock is read only when there is something to wait for
        boolean waiting = false;
        while (true) {
            long count = platform.msiCount();
            if (count != handled) {
                handled = count;
                run();
            }
            if (done.getAsBoolean()) {
                return true;
            }
            long now = System.nanoTime();
            if (!waiting) {
                deadline = now + timeout.toNanos();
                waiting = true;
            } else if (now - deadline >= 0) {
                return false;
            }
            platform.awaitMsi(handled, POLL);
        }
    }

    private int take(long group) {
        long iir = platform.mmioRead(GuestPlatform.BAR0, group + 8, 4);
        platform.mmioWrite(GuestPlatform.BAR0, group + 8, 4, iir);
        return (int) iir;
    }
}
