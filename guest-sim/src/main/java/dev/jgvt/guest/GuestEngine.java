package dev.jgvt.guest;

/**
 * The four Gen9 engines the guest submits to: each one's MMIO base, its logical ring context size (i915's
 * Gen9 sizes: 22 pages for render, 2 for the others), and where its interrupts are in the GT interrupt
 * groups (user interrupt at {@code interruptShift}, the notify event 4 bits above it, context switch 8),
 * and its reset domain.
 */
public enum GuestEngine {
    RCS(0x2000, 22, GuestInterrupts.Group.GT0, 0, 1 << 1),
    BCS(0x22000, 2, GuestInterrupts.Group.GT0, 16, 1 << 3),
    VCS0(0x12000, 2, GuestInterrupts.Group.GT1, 0, 1 << 2),
    VECS(0x1A000, 2, GuestInterrupts.Group.GT3, 0, 1 << 4);

    /** The graphics reset register: a domain bit written 1 resets that engine and reads 1 until done. */
    static final long GDRST = 0x941C;

    /** Per-engine registers, as offsets from the engine's MMIO base. */
    static final int HWS_PGA = 0x80;
    static final int RING_TAIL = 0x30;
    static final int RING_HEAD = 0x34;
    static final int RING_START = 0x38;
    static final int RING_CTL = 0x3C;
    static final int ELSP = 0x230;
    static final int EXECLIST_STATUS = 0x234;
    static final int CTX_CTRL = 0x244;
    static final int PDP0_LDW = 0x270;
    static final int RING_MODE = 0x29C;
    static final int CSB = 0x370;
    static final int CSB_POINTER = 0x3A0;
    static final int CTX_TIMESTAMP = 0x3A8;

    private final int base;
    private final int contextPages;
    private final GuestInterrupts.Group group;
    private final int interruptShift;
    private final int resetDomain;

    GuestEngine(int base, int contextPages, GuestInterrupts.Group group, int interruptShift, int resetDomain) {
        this.resetDomain = resetDomain;
        this.base = base;
        this.contextPages = contextPages;
        this.group = group;
        this.interruptShift = interruptShift;
    }

    public int base() {
        return base;
    }

    int contextPages() {
        return contextPages;
    }

    GuestInterrupts.Group interruptGroup() {
        return group;
    }

    int userInterrupt() {
        return 1 << interruptShift;
    }

    /** The engine's notify event: PIPE_CONTROL notify on RCS, MI_FLUSH_DW notify on the others. */
    int notifyInterrupt() {
        return 1 << (interruptShift + 4);
    }

    int contextSwitchInterrupt() {
        return 1 << (interruptShift + 8);
    }

    /** This engine's bit in GDRST. */
    int resetDomain() {
        return resetDomain;
    }

    /** The BAR0 offset of this engine's register {@code offset}. */
    long register(int offset) {
        return base + (long) offset;
    }
}
