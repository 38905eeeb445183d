package dev.jgvt.guest;

/**
 * The register-state page (page 1) of a Gen9 logical ring context, as the guest writes it, and the context
 * descriptor that names a context in an ELSP submission. The page starts with MI_LOAD_REGISTER_IMM
 * commands the engine would execute to restore the context: (register, value) pairs at fixed dword offsets.
 */
final class ContextImage {
    static final int DWORDS = 1024;
    static final int LRI_RING = 1;
    static final int CTX_CTRL = 2;
    static final int RING_HEAD = 4;
    static final int RING_TAIL = 6;
    static final int RING_START = 8;
    static final int RING_CTL = 10;
    static final int BB_STATE_FIRST = 12;
    static final int LRI_PDP = 33;
    static final int CTX_TIMESTAMP = 34;
    /** PDP3_UDW's (register, value) pair; then PDP3_LDW, PDP2_UDW, ... PDP0_LDW at dwords 50/51. */
    static final int PDP_FIRST = 36;

    /** MI_LOAD_REGISTER_IMM with the force-posted bit, for {@code count} registers. */
    static final int LRI_FORCE_POSTED = 1 << 12;
    /** CTX_CTRL (masked): inhibit synchronous context switch (bit 3) on, engine-context restore inhibit (bit 0) off. */
    static final int CTX_CTRL_VALUE = ((1 << 3 | 1) << 16) | (1 << 3);

    /** Batch-buffer and indirect-context state registers (offsets from the engine base), render has three more. */
    private static final int[] BB_STATE = {0x168, 0x140, 0x110, 0x11C, 0x114, 0x118};
    private static final int[] RENDER_BB_STATE = {0x1C0, 0x1C4, 0x1C8};

    /** Descriptor low-dword bits. */
    static final int DESC_VALID = 1;
    static final int DESC_ADDRESSING_LEGACY_32 = 1 << 3;
    static final int DESC_ADDRESSING_48 = 3 << 3;
    static final int DESC_LLC_COHERENT = 1 << 5;
    static final int DESC_PPGTT = 1 << 8;

    private ContextImage() {}

    /**
     * The ring-context part of page 1 for a context of {@code engine} whose ring is {@code ringBytes} at GGTT
     * address {@code ringStart}, with page-directory pointers {@code pdps} (PDP0..3: for a 4-level PPGTT the
     * PML4 in PDP0). Dwords past the ring context are zero.
     */
    static int[] registerState(GuestEngine engine, long ringStart, int ringBytes, int head, int tail, long[] pdps) {
        if (pdps.length != 4) {
            throw new IllegalArgumentException("four page-directory pointers expected, got " + pdps.length);
        }
        if (ringStart % 4096 != 0 || ringStart >>> 32 != 0) {
            throw new IllegalArgumentException(String.format("ring start 0x%x is not a page-aligned GGTT address", ringStart));
        }
        if (ringBytes < 4096 || ringBytes > (512 << 12) || ringBytes % 4096 != 0) {
            throw new IllegalArgumentException("ring size " + ringBytes + " is not 1..512 pages");
        }
        int[] image = new int[DWORDS];
        int[] extra = engine == GuestEngine.RCS ? RENDER_BB_STATE : new int[0];
        int count = 5 + BB_STATE.length + extra.length;
        image[0] = Commands.MI_NOOP;
        image[LRI_RING] = Commands.MI_LOAD_REGISTER_IMM | LRI_FORCE_POSTED | (count * 2 - 1);
        set(image, CTX_CTRL, engine, GuestEngine.CTX_CTRL, CTX_CTRL_VALUE);
        set(image, RING_HEAD, engine, GuestEngine.RING_HEAD, head & 0x1F_FFFC);
        set(image, RING_TAIL, engine, GuestEngine.RING_TAIL, tail & 0x1F_FFF8);
        set(image, RING_START, engine, GuestEngine.RING_START, (int) ringStart);
        set(image, RING_CTL, engine, GuestEngine.RING_CTL, ((ringBytes / 4096 - 1) << 12) | 1);
        int at = BB_STATE_FIRST;
        for (int reg : BB_STATE) {
            set(image, at, engine, reg, 0);
            at += 2;
        }
        for (int reg : extra) {
            set(image, at, engine, reg, 0);
            at += 2;
        }
        image[LRI_PDP] = Commands.MI_LOAD_REGISTER_IMM | LRI_FORCE_POSTED | (9 * 2 - 1);
        set(image, CTX_TIMESTAMP, engine, GuestEngine.CTX_TIMESTAMP, 0);
        for (int n = 3; n >= 0; n--) {
            int pair = PDP_FIRST + (3 - n) * 4;
            set(image, pair, engine, GuestEngine.PDP0_LDW + 8 * n + 4, (int) (pdps[n] >>> 32));
            set(image, pair + 2, engine, GuestEngine.PDP0_LDW + 8 * n, (int) pdps[n]);
        }
        return image;
    }

    private static void set(int[] image, int dword, GuestEngine engine, int register, int value) {
        image[dword] = engine.base() + register;
        image[dword + 1] = value;
    }

    /**
     * A PPGTT context descriptor for the context at {@code lrca}, named {@code contextId}: addressing mode
     * 48-bit (4-level) or legacy 32-bit (3-level).
     */
    static long descriptor(long lrca, int contextId, boolean fourLevel) {
        if (lrca % 4096 != 0 || lrca >>> 32 != 0) {
            throw new IllegalArgumentException(String.format("LRCA 0x%x is not a page-aligned GGTT address", lrca));
        }
        long low = lrca | DESC_PPGTT | DESC_LLC_COHERENT | (fourLevel ? DESC_ADDRESSING_48 : DESC_ADDRESSING_LEGACY_32)
                | DESC_VALID;
        return ((long) contextId << 32) | low;
    }
}
