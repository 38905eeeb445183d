package dev.jgvt.plugin.xen.abi;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The buffered ioreq page ({@code buffered_iopage_t}, 4096 bytes): {@code read_pointer} u32 at 0,
 * {@code write_pointer} u32 at 4, then 511 slots of 8 bytes from byte 8. A slot ({@code buf_ioreq_t}) is a
 * little-endian u32 word at 0 holding type (bits 0-7), pad (bit 8), dir (bit 9), size code (bits 10-11:
 * 0..3 for 1/2/4/8 bytes) and addr (bits 12-31), followed by {@code data} u32 at 4. Xen buffers only
 * single writes below 1 MiB; an 8-byte write takes two slots (the second holds the high half).
 */
public final class BufferedIoreq {
    public static final int PAGE_BYTES = 4096;
    public static final int OFF_READ_POINTER = 0;
    public static final int OFF_WRITE_POINTER = 4;
    public static final int OFF_SLOTS = 8;
    public static final int SLOT_BYTES = 8;
    public static final int SLOTS = 511;
    public static final long MAX_ADDR = 0xF_FFFFL;

    public static final int BUFIOREQ_OFF = 0;
    public static final int BUFIOREQ_LEGACY = 1;
    public static final int BUFIOREQ_ATOMIC = 2;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BufferedIoreq() {}

    /** One decoded slot. */
    public record Slot(int type, int dir, int size, long addr, int data) {}

    /** Encodes the first word of a slot; {@code size} is 1, 2, 4 or 8. */
    public static int encodeWord(int type, int dir, int size, long addr) {
        if (addr < 0 || addr > MAX_ADDR) {
            throw new IllegalArgumentException("buffered ioreq address " + Long.toHexString(addr) + " exceeds 20 bits");
        }
        int code = switch (size) {
            case 1 -> 0;
            case 2 -> 1;
            case 4 -> 2;
            case 8 -> 3;
            default -> throw new IllegalArgumentException("buffered ioreq size " + size);
        };
        return (type & 0xFF) | ((dir & 1) << 9) | (code << 10) | ((int) addr << 12);
    }

    public static Slot decode(MemorySegment page, int index) {
        long off = OFF_SLOTS + (long) (index % SLOTS) * SLOT_BYTES;
        int word = page.get(U32, off);
        return new Slot(word & 0xFF, (word >>> 9) & 1, 1 << ((word >>> 10) & 3), (word >>> 12) & 0xF_FFFFL,
                page.get(U32, off + 4));
    }

    public static void write(MemorySegment page, int index, int word, int data) {
        long off = OFF_SLOTS + (long) (index % SLOTS) * SLOT_BYTES;
        page.set(U32, off, word);
        page.set(U32, off + 4, data);
    }

    public static int readPointer(MemorySegment page) {
        return page.get(U32, OFF_READ_POINTER);
    }

    public static int writePointer(MemorySegment page) {
        return page.get(U32, OFF_WRITE_POINTER);
    }

    public static void readPointer(MemorySegment page, int value) {
        page.set(U32, OFF_READ_POINTER, value);
    }

    public static void writePointer(MemorySegment page, int value) {
        page.set(U32, OFF_WRITE_POINTER, value);
    }
}
