package dev.jgvt.plugin.xen.abi;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Pins the byte layouts measured on Debian 12 (x86-64, GCC, Xen 4.17): reference xen.md sections 0, 2 and 7.2. */
final class LayoutTest {
    @Test
    void ioreqSlotIs32BytesWithTheMeasuredOffsets() {
        assertThat(Ioreq.BYTES).isEqualTo(32);
        assertThat(new int[] {Ioreq.OFF_ADDR, Ioreq.OFF_DATA, Ioreq.OFF_COUNT, Ioreq.OFF_SIZE, Ioreq.OFF_VP_EPORT,
                Ioreq.OFF_PAD, Ioreq.OFF_FLAGS, Ioreq.OFF_TYPE}).containsExactly(0, 8, 16, 20, 24, 28, 30, 31);
        assertThat(new int[] {Ioreq.STATE_MASK, Ioreq.FLAG_DATA_IS_PTR, Ioreq.FLAG_DIR_READ, Ioreq.FLAG_DF})
                .containsExactly(0x0F, 0x10, 0x20, 0x40);
        assertThat(new int[] {Ioreq.STATE_NONE, Ioreq.STATE_READY, Ioreq.STATE_INPROCESS, Ioreq.STATE_IORESP_READY})
                .containsExactly(0, 1, 2, 3);
        assertThat(new int[] {Ioreq.TYPE_PIO, Ioreq.TYPE_COPY, Ioreq.TYPE_PCI_CONFIG, Ioreq.TYPE_TIMEOFFSET, Ioreq.TYPE_INVALIDATE})
                .containsExactly(0, 1, 2, 7, 8);
        assertThat(Ioreq.SLOTS_PER_PAGE).isEqualTo(128);
    }

    @Test
    void accessorsWriteTheExactBytesOfVcpuOnesSlot() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(4096);
            Ioreq.addr(page, 1, 0x1122_3344_5566_7788L);
            Ioreq.data(page, 1, 0x99AA_BBCC_DDEE_FF00L);
            Ioreq.count(page, 1, 0x0102_0304);
            Ioreq.size(page, 1, 4);
            Ioreq.vpEport(page, 1, 0x55);
            Ioreq.flagsRelease(page, 1, Ioreq.flags(Ioreq.STATE_READY, true, Ioreq.DIR_READ, true));
            Ioreq.type(page, 1, Ioreq.TYPE_COPY);
            byte[] slot = page.asSlice(32, 32).toArray(ValueLayout.JAVA_BYTE);
            assertThat(slot).containsExactly(
                    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                    0x00, 0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99,
                    0x04, 0x03, 0x02, 0x01, 0x04, 0x00, 0x00, 0x00,
                    0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x71, 0x01);
            assertThat(page.asSlice(0, 32).toArray(ValueLayout.JAVA_BYTE)).containsOnly(0);
            Ioreq.stateRelease(page, 1, Ioreq.STATE_IORESP_READY);
            assertThat(page.get(ValueLayout.JAVA_BYTE, 32 + 30)).as("flag bits kept").isEqualTo((byte) 0x73);
        }
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    @Test
    void pciConfigAddressCarriesTheSbdfInTheHighHalf() {
        assertThat(Ioreq.pciConfigAddr(XenConst.sbdf(0, 0, 2, 0), 0xFC)).isEqualTo(0x0000_0010_0000_00FCL);
        assertThat(XenConst.sbdf(1, 0x80, 0x1F, 7)).isEqualTo(0x0001_80FF);
    }

    @Test
    void bufferedPageHasPointersThen511EightByteSlots() {
        assertThat(BufferedIoreq.OFF_READ_POINTER).isZero();
        assertThat(BufferedIoreq.OFF_WRITE_POINTER).isEqualTo(4);
        assertThat(BufferedIoreq.OFF_SLOTS).isEqualTo(8);
        assertThat(BufferedIoreq.OFF_SLOTS + BufferedIoreq.SLOTS * BufferedIoreq.SLOT_BYTES).isEqualTo(4096);
        int word = BufferedIoreq.encodeWord(Ioreq.TYPE_COPY, Ioreq.DIR_WRITE, 4, 0xA0123);
        assertThat(word).isEqualTo(1 | (2 << 10) | (0xA0123 << 12));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(4096);
            BufferedIoreq.write(page, 512, word, 0xDEAD_BEEF); // index wraps modulo 511 to slot 1
            assertThat(page.asSlice(16, 8).toArray(ValueLayout.JAVA_BYTE))
                    .containsExactly(bytes(0x01, 0x38, 0x12, 0xA0, 0xEF, 0xBE, 0xAD, 0xDE));
            assertThat(BufferedIoreq.decode(page, 1)).isEqualTo(new BufferedIoreq.Slot(1, 0, 4, 0xA0123, 0xDEAD_BEEF));
        }
    }

    @Test
    void dmOpIs32BytesAndItsArgumentStructsHaveTheHeaderSizes() {
        assertThat(DmOp.XEN_DM_OP.byteSize()).isEqualTo(32);
        assertThat(DmOp.ARGS_UNION.byteSize()).isEqualTo(24);
        assertThat(DmOp.XEN_DM_OP_BUF.byteSize()).isEqualTo(16);
        assertThat(DmOp.IOREQ_SERVER_RANGE_ARGS.byteSize()).isEqualTo(24);
        assertThat(DmOp.SET_MEM_TYPE_ARGS.byteSize()).isEqualTo(16);
        assertThat(DmOp.INJECT_MSI_ARGS.byteSize()).isEqualTo(16);
        assertThat(DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS.byteSize()).isEqualTo(16);
        assertThat(DmOp.GET_IOREQ_SERVER_INFO_ARGS.byteSize()).isEqualTo(24);
        assertThat(DmOp.MODIFIED_MEMORY_EXTENT.byteSize()).isEqualTo(16);
        assertThat(DmOp.CREATE_IOREQ_SERVER_ARGS.byteSize()).isEqualTo(6);
        assertThat(offsets(DmOp.GET_IOREQ_SERVER_INFO_ARGS, "id", "flags", "bufioreq_port", "ioreq_gfn", "bufioreq_gfn"))
                .containsExactly(0, 2, 4, 8, 16);
        assertThat(offsets(DmOp.IOREQ_SERVER_RANGE_ARGS, "id", "type", "start", "end")).containsExactly(0, 4, 8, 16);
        assertThat(offsets(DmOp.SET_MEM_TYPE_ARGS, "nr", "mem_type", "first_pfn")).containsExactly(0, 4, 8);
        assertThat(offsets(DmOp.INJECT_MSI_ARGS, "data", "addr")).containsExactly(0, 8);
        assertThat(offsets(DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "id", "type", "flags", "opaque")).containsExactly(0, 2, 4, 8);
        assertThat(offsets(DmOp.CREATE_IOREQ_SERVER_ARGS, "handle_bufioreq", "id")).containsExactly(0, 4);
        assertThat(DmOp.offset(DmOp.INJECT_MSI_ARGS, "addr")).isEqualTo(16);
        assertThat(new int[] {DmOp.CREATE_IOREQ_SERVER, DmOp.GET_IOREQ_SERVER_INFO, DmOp.MAP_IO_RANGE_TO_IOREQ_SERVER,
                DmOp.UNMAP_IO_RANGE_FROM_IOREQ_SERVER, DmOp.SET_IOREQ_SERVER_STATE, DmOp.DESTROY_IOREQ_SERVER,
                DmOp.MODIFIED_MEMORY, DmOp.SET_MEM_TYPE, DmOp.INJECT_MSI, DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER, DmOp.NR_VCPUS})
                .containsExactly(1, 2, 3, 4, 5, 6, 11, 12, 14, 15, 20);
    }

    @Test
    void xenConstantsMatchThePublicHeaders() {
        assertThat(new int[] {XenConst.HVMMEM_RAM_RW, XenConst.HVMMEM_RAM_RO, XenConst.HVMMEM_MMIO_DM, XenConst.HVMMEM_UNUSED,
                XenConst.HVMMEM_IOREQ_SERVER}).containsExactly(0, 1, 2, 3, 4);
        assertThat(new int[] {XenConst.IO_RANGE_PORT, XenConst.IO_RANGE_MEMORY, XenConst.IO_RANGE_PCI}).containsExactly(0, 1, 2);
        assertThat(new int[] {XenConst.IOREQ_MEM_ACCESS_READ, XenConst.IOREQ_MEM_ACCESS_WRITE}).containsExactly(1, 2);
        assertThat(new int[] {XenConst.MAX_NR_IOREQ_SERVERS, XenConst.MAX_NR_IO_RANGES}).containsExactly(8, 256);
        assertThat(new int[] {BufferedIoreq.BUFIOREQ_OFF, BufferedIoreq.BUFIOREQ_LEGACY, BufferedIoreq.BUFIOREQ_ATOMIC})
                .containsExactly(0, 1, 2);
    }

    private static int[] offsets(java.lang.foreign.StructLayout layout, String... fields) {
        int[] out = new int[fields.length];
        for (int i = 0; i < fields.length; i++) {
            out[i] = (int) layout.byteOffset(MemoryLayout.PathElement.groupElement(fields[i]));
        }
        return out;
    }
}
