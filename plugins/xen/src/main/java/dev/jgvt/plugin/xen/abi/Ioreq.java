package dev.jgvt.plugin.xen.abi;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * {@code struct ioreq} (Xen's {@code public/hvm/ioreq.h}), 32 bytes, as laid out by GCC on x86-64, and
 * the synchronous shared page that holds one slot per vCPU ({@code shared_iopage}: slot {@code v} at byte
 * {@code 32 * v}). Static accessors work on the page segment and a vCPU index; the state byte is read with
 * acquire and written with release semantics, which is the barrier pairing the handshake needs.
 *
 * <pre>
 *  0  u64 addr      guest physical address, port, or (SBDF &lt;&lt; 32) | register for PCI_CONFIG
 *  8  u64 data      value, or guest physical address of a buffer when data_is_ptr
 * 16  u32 count     repetitions
 * 20  u32 size      bytes per item (1, 2, 4, 8)
 * 24  u32 vp_eport  Xen's event-channel port for this vCPU (the device model never writes it)
 * 28  u16 pad
 * 30  u8  flags     state bits 0-3, data_is_ptr bit 4, dir bit 5 (1 = read), df bit 6
 * 31  u8  type
 * </pre>
 */
public final class Ioreq {
    public static final int BYTES = 32;
    public static final int OFF_ADDR = 0;
    public static final int OFF_DATA = 8;
    public static final int OFF_COUNT = 16;
    public static final int OFF_SIZE = 20;
    public static final int OFF_VP_EPORT = 24;
    public static final int OFF_PAD = 28;
    public static final int OFF_FLAGS = 30;
    public static final int OFF_TYPE = 31;

    public static final int STATE_MASK = 0x0F;
    public static final int FLAG_DATA_IS_PTR = 0x10;
    public static final int FLAG_DIR_READ = 0x20;
    public static final int FLAG_DF = 0x40;

    public static final int STATE_NONE = 0;
    public static final int STATE_READY = 1;
    public static final int STATE_INPROCESS = 2;
    public static final int STATE_IORESP_READY = 3;

    public static final int TYPE_PIO = 0;
    public static final int TYPE_COPY = 1;
    public static final int TYPE_PCI_CONFIG = 2;
    public static final int TYPE_TIMEOFFSET = 7;
    public static final int TYPE_INVALIDATE = 8;

    public static final int DIR_WRITE = 0;
    public static final int DIR_READ = 1;

    /** Slots in one 4096-byte page. */
    public static final int SLOTS_PER_PAGE = 4096 / BYTES;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();

    private Ioreq() {}

    /** Byte offset of vCPU {@code vcpu}'s slot in the shared page. */
    public static long slot(int vcpu) {
        if (vcpu < 0 || vcpu >= SLOTS_PER_PAGE) {
            throw new IllegalArgumentException("vCPU " + vcpu + " has no slot in one ioreq page (0.." + (SLOTS_PER_PAGE - 1) + ")");
        }
        return (long) vcpu * BYTES;
    }

    public static long addr(MemorySegment page, int vcpu) {
        return page.get(U64, slot(vcpu) + OFF_ADDR);
    }

    public static void addr(MemorySegment page, int vcpu, long value) {
        page.set(U64, slot(vcpu) + OFF_ADDR, value);
    }

    public static long data(MemorySegment page, int vcpu) {
        return page.get(U64, slot(vcpu) + OFF_DATA);
    }

    public static void data(MemorySegment page, int vcpu, long value) {
        page.set(U64, slot(vcpu) + OFF_DATA, value);
    }

    public static int count(MemorySegment page, int vcpu) {
        return page.get(U32, slot(vcpu) + OFF_COUNT);
    }

    public static void count(MemorySegment page, int vcpu, int value) {
        page.set(U32, slot(vcpu) + OFF_COUNT, value);
    }

    public static int size(MemorySegment page, int vcpu) {
        return page.get(U32, slot(vcpu) + OFF_SIZE);
    }

    public static void size(MemorySegment page, int vcpu, int value) {
        page.set(U32, slot(vcpu) + OFF_SIZE, value);
    }

    public static int vpEport(MemorySegment page, int vcpu) {
        return page.get(U32, slot(vcpu) + OFF_VP_EPORT);
    }

    /** Written by Xen only (on server enable). */
    public static void vpEport(MemorySegment page, int vcpu, int port) {
        page.set(U32, slot(vcpu) + OFF_VP_EPORT, port);
    }

    public static int type(MemorySegment page, int vcpu) {
        return Byte.toUnsignedInt(page.get(ValueLayout.JAVA_BYTE, slot(vcpu) + OFF_TYPE));
    }

    public static void type(MemorySegment page, int vcpu, int type) {
        page.set(ValueLayout.JAVA_BYTE, slot(vcpu) + OFF_TYPE, (byte) type);
    }

    /** The whole flags byte (state and the three flag bits), read with acquire semantics. */
    public static int flagsAcquire(MemorySegment page, int vcpu) {
        return Byte.toUnsignedInt((byte) BYTE.getAcquire(page, slot(vcpu) + OFF_FLAGS));
    }

    /** Writes the whole flags byte with release semantics. */
    public static void flagsRelease(MemorySegment page, int vcpu, int flags) {
        BYTE.setRelease(page, slot(vcpu) + OFF_FLAGS, (byte) flags);
    }

    /** The state (bits 0-3 of byte 30), acquire. */
    public static int stateAcquire(MemorySegment page, int vcpu) {
        return flagsAcquire(page, vcpu) & STATE_MASK;
    }

    /**
     * Sets the state with release semantics, keeping bits 4-7 (data_is_ptr, dir, df) as they are. Only the
     * writer of the state touches the byte at a time (the handshake alternates owners), so read-then-write
     * is race free.
     */
    public static void stateRelease(MemorySegment page, int vcpu, int state) {
        int flags = Byte.toUnsignedInt(page.get(ValueLayout.JAVA_BYTE, slot(vcpu) + OFF_FLAGS));
        flagsRelease(page, vcpu, (flags & ~STATE_MASK) | (state & STATE_MASK));
    }

    public static boolean dataIsPtr(int flags) {
        return (flags & FLAG_DATA_IS_PTR) != 0;
    }

    public static boolean isRead(int flags) {
        return (flags & FLAG_DIR_READ) != 0;
    }

    public static boolean df(int flags) {
        return (flags & FLAG_DF) != 0;
    }

    /** Composes a flags byte. */
    public static int flags(int state, boolean dataIsPtr, int dir, boolean df) {
        return (state & STATE_MASK)
                | (dataIsPtr ? FLAG_DATA_IS_PTR : 0)
                | (dir == DIR_READ ? FLAG_DIR_READ : 0)
                | (df ? FLAG_DF : 0);
    }

    /** The PCI_CONFIG address: SBDF in bits 63..32, register in bits 31..0. */
    public static long pciConfigAddr(int sbdf, int register) {
        return ((long) sbdf << 32) | (register & 0xFFFF_FFFFL);
    }

    public static String stateName(int state) {
        return switch (state) {
            case STATE_NONE -> "NONE";
            case STATE_READY -> "READY";
            case STATE_INPROCESS -> "INPROCESS";
            case STATE_IORESP_READY -> "IORESP_READY";
            default -> "state " + state;
        };
    }
}
