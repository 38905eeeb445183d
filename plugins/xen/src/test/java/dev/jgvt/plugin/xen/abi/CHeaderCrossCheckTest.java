package dev.jgvt.plugin.xen.abi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where gcc and Xen's public headers (Debian's libxen-dev) are installed, compiles {@code layout-dump.c},
 * runs it, and compares every size, offset, bit position and constant it prints with the Java definitions.
 * Skipped, with the reason printed, elsewhere.
 */
final class CHeaderCrossCheckTest {
    @TempDir
    Path dir;

    private static boolean onPath(String tool) {
        for (String entry : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!entry.isEmpty() && Files.isExecutable(Path.of(entry, tool))) {
                return true;
            }
        }
        return false;
    }

    private static String run(Path directory, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("%s: %s", String.join(" ", command), output).isZero();
        return output;
    }

    private static long off(StructLayout layout, String field) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    @Test
    void javaLayoutsMatchTheInstalledXenHeaders() throws Exception {
        boolean tools = onPath("gcc") && Files.exists(Path.of("/usr/include/xen/hvm/ioreq.h"))
                && Files.exists(Path.of("/usr/include/xen/hvm/dm_op.h"));
        if (!tools) {
            System.out.println("CHeaderCrossCheckTest: gcc or libxen-dev headers missing; cross-check skipped");
        }
        assumeThat(tools).as("gcc and libxen-dev installed").isTrue();
        try (InputStream source = getClass().getResourceAsStream("layout-dump.c")) {
            Files.write(dir.resolve("layout-dump.c"), source.readAllBytes());
        }
        run(dir, "gcc", "-D__XEN_TOOLS__", "-o", "layout-dump", "layout-dump.c");
        Map<String, Long> c = new LinkedHashMap<>();
        for (String line : run(dir, dir.resolve("layout-dump").toString()).split("\n")) {
            String[] parts = line.trim().split(" ");
            c.put(parts[0], Long.parseLong(parts[1]));
        }

        Map<String, Long> java = new LinkedHashMap<>();
        java.put("ioreq.size", (long) Ioreq.BYTES);
        java.put("ioreq.addr", (long) Ioreq.OFF_ADDR);
        java.put("ioreq.data", (long) Ioreq.OFF_DATA);
        java.put("ioreq.count", (long) Ioreq.OFF_COUNT);
        java.put("ioreq.sizefield", (long) Ioreq.OFF_SIZE);
        java.put("ioreq.vp_eport", (long) Ioreq.OFF_VP_EPORT);
        java.put("ioreq.type", (long) Ioreq.OFF_TYPE);
        for (String flag : new String[] {"state", "data_is_ptr", "dir", "df"}) {
            java.put("ioreq." + flag + ".byte", (long) Ioreq.OFF_FLAGS);
        }
        java.put("ioreq.state.mask", (long) Ioreq.STATE_MASK);
        java.put("ioreq.data_is_ptr.mask", (long) Ioreq.FLAG_DATA_IS_PTR);
        java.put("ioreq.dir.mask", (long) Ioreq.FLAG_DIR_READ);
        java.put("ioreq.df.mask", (long) Ioreq.FLAG_DF);
        java.put("state.none", (long) Ioreq.STATE_NONE);
        java.put("state.ready", (long) Ioreq.STATE_READY);
        java.put("state.inprocess", (long) Ioreq.STATE_INPROCESS);
        java.put("state.resp_ready", (long) Ioreq.STATE_IORESP_READY);
        java.put("type.pio", (long) Ioreq.TYPE_PIO);
        java.put("type.copy", (long) Ioreq.TYPE_COPY);
        java.put("type.pci_config", (long) Ioreq.TYPE_PCI_CONFIG);
        java.put("type.timeoffset", (long) Ioreq.TYPE_TIMEOFFSET);
        java.put("type.invalidate", (long) Ioreq.TYPE_INVALIDATE);
        java.put("dir.read", (long) Ioreq.DIR_READ);
        java.put("dir.write", (long) Ioreq.DIR_WRITE);

        java.put("bufpage.size", (long) BufferedIoreq.PAGE_BYTES);
        java.put("bufpage.read_pointer", (long) BufferedIoreq.OFF_READ_POINTER);
        java.put("bufpage.write_pointer", (long) BufferedIoreq.OFF_WRITE_POINTER);
        java.put("bufpage.slots", (long) BufferedIoreq.OFF_SLOTS);
        java.put("bufpage.nslots", (long) BufferedIoreq.SLOTS);
        java.put("bufslot.size", (long) BufferedIoreq.SLOT_BYTES);
        java.put("bufslot.type.word", (long) BufferedIoreq.encodeWord(0xFF, 0, 1, 0));
        java.put("bufslot.dir.word", (long) BufferedIoreq.encodeWord(0, 1, 1, 0));
        java.put("bufslot.size.word", (long) BufferedIoreq.encodeWord(0, 0, 8, 0));
        java.put("bufslot.addr.word", Integer.toUnsignedLong(BufferedIoreq.encodeWord(0, 0, 1, BufferedIoreq.MAX_ADDR)));
        java.put("bufslot.data", 4L);

        java.put("dmop.size", DmOp.XEN_DM_OP.byteSize());
        java.put("dmop.u", (long) DmOp.OFF_U);
        java.put("dmop.buf.size", DmOp.XEN_DM_OP_BUF.byteSize());
        java.put("dmop.create.size", DmOp.CREATE_IOREQ_SERVER_ARGS.byteSize());
        java.put("dmop.create.id", off(DmOp.CREATE_IOREQ_SERVER_ARGS, "id"));
        java.put("dmop.info.size", DmOp.GET_IOREQ_SERVER_INFO_ARGS.byteSize());
        java.put("dmop.info.flags", off(DmOp.GET_IOREQ_SERVER_INFO_ARGS, "flags"));
        java.put("dmop.info.bufioreq_port", off(DmOp.GET_IOREQ_SERVER_INFO_ARGS, "bufioreq_port"));
        java.put("dmop.info.ioreq_gfn", off(DmOp.GET_IOREQ_SERVER_INFO_ARGS, "ioreq_gfn"));
        java.put("dmop.info.bufioreq_gfn", off(DmOp.GET_IOREQ_SERVER_INFO_ARGS, "bufioreq_gfn"));
        java.put("dmop.range.size", DmOp.IOREQ_SERVER_RANGE_ARGS.byteSize());
        java.put("dmop.range.type", off(DmOp.IOREQ_SERVER_RANGE_ARGS, "type"));
        java.put("dmop.range.start", off(DmOp.IOREQ_SERVER_RANGE_ARGS, "start"));
        java.put("dmop.range.end", off(DmOp.IOREQ_SERVER_RANGE_ARGS, "end"));
        java.put("dmop.state.size", DmOp.SET_IOREQ_SERVER_STATE_ARGS.byteSize());
        java.put("dmop.state.enabled", off(DmOp.SET_IOREQ_SERVER_STATE_ARGS, "enabled"));
        java.put("dmop.destroy.size", DmOp.DESTROY_IOREQ_SERVER_ARGS.byteSize());
        java.put("dmop.memtype.size", DmOp.SET_MEM_TYPE_ARGS.byteSize());
        java.put("dmop.memtype.mem_type", off(DmOp.SET_MEM_TYPE_ARGS, "mem_type"));
        java.put("dmop.memtype.first_pfn", off(DmOp.SET_MEM_TYPE_ARGS, "first_pfn"));
        java.put("dmop.msi.size", DmOp.INJECT_MSI_ARGS.byteSize());
        java.put("dmop.msi.addr", off(DmOp.INJECT_MSI_ARGS, "addr"));
        java.put("dmop.mapmemtype.size", DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS.byteSize());
        java.put("dmop.mapmemtype.type", off(DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "type"));
        java.put("dmop.mapmemtype.flags", off(DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "flags"));
        java.put("dmop.mapmemtype.opaque", off(DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "opaque"));
        java.put("dmop.nrvcpus.size", DmOp.NR_VCPUS_ARGS.byteSize());
        java.put("dmop.extent.size", DmOp.MODIFIED_MEMORY_EXTENT.byteSize());
        java.put("dmop.extent.first_pfn", off(DmOp.MODIFIED_MEMORY_EXTENT, "first_pfn"));
        java.put("op.create", (long) DmOp.CREATE_IOREQ_SERVER);
        java.put("op.info", (long) DmOp.GET_IOREQ_SERVER_INFO);
        java.put("op.map_range", (long) DmOp.MAP_IO_RANGE_TO_IOREQ_SERVER);
        java.put("op.unmap_range", (long) DmOp.UNMAP_IO_RANGE_FROM_IOREQ_SERVER);
        java.put("op.state", (long) DmOp.SET_IOREQ_SERVER_STATE);
        java.put("op.destroy", (long) DmOp.DESTROY_IOREQ_SERVER);
        java.put("op.modified_memory", (long) DmOp.MODIFIED_MEMORY);
        java.put("op.set_mem_type", (long) DmOp.SET_MEM_TYPE);
        java.put("op.inject_msi", (long) DmOp.INJECT_MSI);
        java.put("op.map_mem_type", (long) DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER);
        java.put("op.nr_vcpus", (long) DmOp.NR_VCPUS);
        java.put("no_gfns", (long) DmOp.NO_GFNS);
        java.put("range.port", (long) XenConst.IO_RANGE_PORT);
        java.put("range.memory", (long) XenConst.IO_RANGE_MEMORY);
        java.put("range.pci", (long) XenConst.IO_RANGE_PCI);
        java.put("access.read", (long) XenConst.IOREQ_MEM_ACCESS_READ);
        java.put("access.write", (long) XenConst.IOREQ_MEM_ACCESS_WRITE);
        java.put("sbdf.example", (long) XenConst.sbdf(1, 0x80, 0x1F, 7));
        java.put("hvmmem.ram_rw", (long) XenConst.HVMMEM_RAM_RW);
        java.put("hvmmem.ram_ro", (long) XenConst.HVMMEM_RAM_RO);
        java.put("hvmmem.mmio_dm", (long) XenConst.HVMMEM_MMIO_DM);
        java.put("hvmmem.ioreq_server", (long) XenConst.HVMMEM_IOREQ_SERVER);
        java.put("bufioreq.off", (long) BufferedIoreq.BUFIOREQ_OFF);
        java.put("bufioreq.legacy", (long) BufferedIoreq.BUFIOREQ_LEGACY);
        java.put("bufioreq.atomic", (long) BufferedIoreq.BUFIOREQ_ATOMIC);

        assertThat(java).containsExactlyInAnyOrderEntriesOf(c);
    }
}
