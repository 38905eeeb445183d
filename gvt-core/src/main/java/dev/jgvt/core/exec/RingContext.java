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
        long[] pdps = new long[4];
        for (int n = 0; n < 4; n++) {
            int udw = PDP3_UDW_VALUE + 4 * (3 - n);
            long high = page.get(DW, udw * 4L) & 0xFFFF_FFFFL;
            long low = page.get(DW, (udw + 2) * 4L) & 0xFFFF_FFFFL;
            pdps[n] = high << 32 | low;
        }
        return new RingContext(page.get(DW, CTX_CTRL_VALUE * 4L), page.get(DW, HEAD_VALUE * 4L),
                page.get(DW, TAIL_VALUE * 4L), page.get(DW, START_VALUE * 4L) & 0xFFFF_F000L,
                page.get(DW, CTL_VALUE * 4L), pdps, page.get(DW, TIMESTAMP_VALUE * 4L));
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
