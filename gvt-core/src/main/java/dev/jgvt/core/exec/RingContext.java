package dev.jgvt.core.exec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The ring-context part of a logical ring context image (page 1, the first 0x50 dwords; gvt-g.md §7.2): pairs of
 * (register, value) written by the context's MI_LOAD_REGISTER_IMM headers. Only the values are used, at fixed
 * dword indices, as the hardware restores them.
 */
record RingContext(int ctxControl, int head, int tail, long ringStart, int ringControl, long[] pdps, int timestamp) {
    /** Bytes of the ring context read from page 1. */
    static final int BYTES = 0x50 * 4;
    /** Dword index of the RING_HEAD value. */
    static final int HEAD_VALUE = 5;
    static final int TAIL_VALUE = 7;
    private static final int CTX_CTRL_VALUE = 3;
    private static final int START_VALUE = 9;
    private static final int CTL_VALUE = 11;
    private static final int TIMESTAMP_VALUE = 35;
    /** Dword index of the PDP3 upper value; PDPn UDW is at 37 + 4 * (3 - n), its LDW two dwords later. */
    private static final int PDP3_UDW_VALUE = 37;
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    RingContext {
        pdps = pdps.clone();
    }

    /** Decodes {@code page} (at least {@link #BYTES} bytes of page 1). */
    static RingContext decode(MemorySegment page) {
        int[] dwords = new int[BYTES / 4];
        return decode(page, dwords);
    }

    /**
     * Decodes {@code page} (at least {@link #BYTES} bytes of page 1) through {@code scratch} (at least
     * {@code BYTES / 4} ints): one bulk copy, then plain array reads.
     */
    static RingContext decode(MemorySegment page, int[] scratch) {
        MemorySegment.copy(page, DW, 0, scratch, 0, BYTES / 4);
        long[] pdps = new long[4];
        for (int n = 0; n < 4; n++) {
            int udw = PDP3_UDW_VALUE + 4 * (3 - n);
            pdps[n] = (scratch[udw] & 0xFFFF_FFFFL) << 32 | (scratch[udw + 2] & 0xFFFF_FFFFL);
        }
        return new RingContext(scratch[CTX_CTRL_VALUE], scratch[HEAD_VALUE], scratch[TAIL_VALUE],
                scratch[START_VALUE] & 0xFFFF_F000L, scratch[CTL_VALUE], pdps, scratch[TIMESTAMP_VALUE]);
    }

    /** The head offset (RING_HEAD bits 20:2). */
    int headOffset() {
        return head & 0x1F_FFFC;
    }

    /** The tail offset (RING_TAIL bits 20:3). */
    int tailOffset() {
        return tail & 0x1F_FFF8;
    }

    /** Ring size in bytes: (RING_CTL bits 20:12) + 1 pages. */
    int ringSize() {
        return (((ringControl >>> 12) & 0x1FF) + 1) * 4096;
    }

    @Override
    public long[] pdps() {
        return pdps.clone();
    }

    long pdp(int n) {
        return pdps[n];
    }

    @Override
    public String toString() {
        return String.format("ring 0x%x size 0x%x head 0x%x tail 0x%x pdp0 0x%x", ringStart, ringSize(), headOffset(),
                tailOffset(), pdps[0]);
    }
}
