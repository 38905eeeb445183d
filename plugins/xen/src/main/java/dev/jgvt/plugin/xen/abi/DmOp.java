package dev.jgvt.plugin.xen.abi;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * {@code struct xen_dm_op} ({@code public/hvm/dm_op.h}): {@code op} u32 at 0, pad u32 at 4, then a union of
 * the per-op argument structs at 8 (24 bytes, the largest member), 32 bytes in all. The device-model
 * library sends it as the first {@code xen_dm_op_buf} (a guest handle and a size, 16 bytes). The layouts
 * below name every field so that tests can pin sizes and offsets; the emulated hypervisor decodes the
 * same bytes the library would send.
 */
public final class DmOp {
    public static final int CREATE_IOREQ_SERVER = 1;
    public static final int GET_IOREQ_SERVER_INFO = 2;
    public static final int MAP_IO_RANGE_TO_IOREQ_SERVER = 3;
    public static final int UNMAP_IO_RANGE_FROM_IOREQ_SERVER = 4;
    public static final int SET_IOREQ_SERVER_STATE = 5;
    public static final int DESTROY_IOREQ_SERVER = 6;
    public static final int TRACK_DIRTY_VRAM = 7;
    public static final int SET_PCI_INTX_LEVEL = 8;
    public static final int SET_ISA_IRQ_LEVEL = 9;
    public static final int SET_PCI_LINK_ROUTE = 10;
    public static final int MODIFIED_MEMORY = 11;
    public static final int SET_MEM_TYPE = 12;
    public static final int INJECT_EVENT = 13;
    public static final int INJECT_MSI = 14;
    public static final int MAP_MEM_TYPE_TO_IOREQ_SERVER = 15;
    public static final int REMOTE_SHUTDOWN = 16;
    public static final int RELOCATE_MEMORY = 17;
    public static final int PIN_MEMORY_CACHEATTR = 18;
    public static final int SET_IRQ_LEVEL = 19;
    public static final int NR_VCPUS = 20;

    /** {@code get_ioreq_server_info.flags}: do not allocate guest gfns for the pages. */
    public static final int NO_GFNS = 1;

    /** Offset of the argument union. */
    public static final int OFF_U = 8;

    static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

    public static final StructLayout CREATE_IOREQ_SERVER_ARGS = structLayout(
            U8.withName("handle_bufioreq"), paddingLayout(3), U16.withName("id"));
    public static final StructLayout GET_IOREQ_SERVER_INFO_ARGS = structLayout(
            U16.withName("id"), U16.withName("flags"), U32.withName("bufioreq_port"),
            U64.withName("ioreq_gfn"), U64.withName("bufioreq_gfn"));
    public static final StructLayout IOREQ_SERVER_RANGE_ARGS = structLayout(
            U16.withName("id"), paddingLayout(2), U32.withName("type"), U64.withName("start"), U64.withName("end"));
    public static final StructLayout SET_IOREQ_SERVER_STATE_ARGS = structLayout(
            U16.withName("id"), U8.withName("enabled"), paddingLayout(1));
    public static final StructLayout DESTROY_IOREQ_SERVER_ARGS = structLayout(U16.withName("id"), paddingLayout(2));
    public static final StructLayout SET_MEM_TYPE_ARGS = structLayout(
            U32.withName("nr"), U16.withName("mem_type"), paddingLayout(2), U64.withName("first_pfn"));
    public static final StructLayout INJECT_MSI_ARGS = structLayout(
            U32.withName("data"), paddingLayout(4), U64.withName("addr"));
    public static final StructLayout MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS = structLayout(
            U16.withName("id"), U16.withName("type"), U32.withName("flags"), U64.withName("opaque"));
    public static final StructLayout NR_VCPUS_ARGS = structLayout(U32.withName("vcpus"));
    public static final StructLayout MODIFIED_MEMORY_EXTENT = structLayout(
            U32.withName("nr"), paddingLayout(4), U64.withName("first_pfn"));

    /** The union: as large as its largest member. */
    public static final MemoryLayout ARGS_UNION = MemoryLayout.unionLayout(
            CREATE_IOREQ_SERVER_ARGS, GET_IOREQ_SERVER_INFO_ARGS, IOREQ_SERVER_RANGE_ARGS,
            SET_IOREQ_SERVER_STATE_ARGS, DESTROY_IOREQ_SERVER_ARGS, SET_MEM_TYPE_ARGS, INJECT_MSI_ARGS,
            MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, NR_VCPUS_ARGS);

    public static final StructLayout XEN_DM_OP = structLayout(
            U32.withName("op"), paddingLayout(4), ARGS_UNION.withName("u"));

    /** {@code struct xen_dm_op_buf}: a guest handle (pointer) and a size. */
    public static final StructLayout XEN_DM_OP_BUF = structLayout(
            ValueLayout.ADDRESS.withName("h"), ValueLayout.JAVA_LONG.withName("size"));

    public static final int BYTES = (int) XEN_DM_OP.byteSize();

    private DmOp() {}

    /** Byte offset in {@code xen_dm_op} of {@code field} of the argument struct {@code args}. */
    public static long offset(StructLayout args, String field) {
        return OFF_U + args.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    public static int op(MemorySegment op) {
        return op.get(U32, 0);
    }

    public static void op(MemorySegment op, int value) {
        op.set(U32, 0, value);
    }

    public static int u8(MemorySegment op, StructLayout args, String field) {
        return Byte.toUnsignedInt(op.get(U8, offset(args, field)));
    }

    public static int u16(MemorySegment op, StructLayout args, String field) {
        return Short.toUnsignedInt(op.get(U16, offset(args, field)));
    }

    public static int u32(MemorySegment op, StructLayout args, String field) {
        return op.get(U32, offset(args, field));
    }

    public static long u64(MemorySegment op, StructLayout args, String field) {
        return op.get(U64, offset(args, field));
    }

    public static void u8(MemorySegment op, StructLayout args, String field, int value) {
        op.set(U8, offset(args, field), (byte) value);
    }

    public static void u16(MemorySegment op, StructLayout args, String field, int value) {
        op.set(U16, offset(args, field), (short) value);
    }

    public static void u32(MemorySegment op, StructLayout args, String field, int value) {
        op.set(U32, offset(args, field), value);
    }

    public static void u64(MemorySegment op, StructLayout args, String field, long value) {
        op.set(U64, offset(args, field), value);
    }
}
