/* Prints the layout facts of Xen's public headers that the plugin hard-codes, one "key value" per line.
 * Compiled and run by CHeaderCrossCheckTest where gcc and libxen-dev are installed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/hvm/ioreq.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/hvm_op.h>

static void first_set(const char *key, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i]) {
            printf("%s.byte %zu\n%s.mask %u\n", key, i, key, b[i]);
            return;
        }
    }
    printf("%s.byte -1\n", key);
}

#define SIZE(name, type) printf("%s %zu\n", name, sizeof(type))
#define OFF(name, type, field) printf("%s %zu\n", name, offsetof(type, field))
#define VAL(name, value) printf("%s %ld\n", name, (long)(value))

int main(void) {
    ioreq_t r;
    SIZE("ioreq.size", ioreq_t);
    OFF("ioreq.addr", ioreq_t, addr);
    OFF("ioreq.data", ioreq_t, data);
    OFF("ioreq.count", ioreq_t, count);
    OFF("ioreq.sizefield", ioreq_t, size);
    OFF("ioreq.vp_eport", ioreq_t, vp_eport);
    OFF("ioreq.type", ioreq_t, type);
    memset(&r, 0, sizeof r); r.state = 0xF; first_set("ioreq.state", &r, sizeof r);
    memset(&r, 0, sizeof r); r.data_is_ptr = 1; first_set("ioreq.data_is_ptr", &r, sizeof r);
    memset(&r, 0, sizeof r); r.dir = 1; first_set("ioreq.dir", &r, sizeof r);
    memset(&r, 0, sizeof r); r.df = 1; first_set("ioreq.df", &r, sizeof r);
    VAL("state.none", STATE_IOREQ_NONE);
    VAL("state.ready", STATE_IOREQ_READY);
    VAL("state.inprocess", STATE_IOREQ_INPROCESS);
    VAL("state.resp_ready", STATE_IORESP_READY);
    VAL("type.pio", IOREQ_TYPE_PIO);
    VAL("type.copy", IOREQ_TYPE_COPY);
    VAL("type.pci_config", IOREQ_TYPE_PCI_CONFIG);
    VAL("type.timeoffset", IOREQ_TYPE_TIMEOFFSET);
    VAL("type.invalidate", IOREQ_TYPE_INVALIDATE);
    VAL("dir.read", IOREQ_READ);
    VAL("dir.write", IOREQ_WRITE);

    SIZE("bufpage.size", buffered_iopage_t);
    OFF("bufpage.read_pointer", buffered_iopage_t, read_pointer);
    OFF("bufpage.write_pointer", buffered_iopage_t, write_pointer);
    OFF("bufpage.slots", buffered_iopage_t, buf_ioreq);
    VAL("bufpage.nslots", IOREQ_BUFFER_SLOT_NUM);
    SIZE("bufslot.size", buf_ioreq_t);
    {
        buf_ioreq_t b;
        uint32_t w;
        memset(&b, 0, sizeof b); b.type = 0xFF; memcpy(&w, &b, 4); VAL("bufslot.type.word", w);
        memset(&b, 0, sizeof b); b.dir = 1; memcpy(&w, &b, 4); VAL("bufslot.dir.word", w);
        memset(&b, 0, sizeof b); b.size = 3; memcpy(&w, &b, 4); VAL("bufslot.size.word", w);
        memset(&b, 0, sizeof b); b.addr = 0xFFFFF; memcpy(&w, &b, 4); VAL("bufslot.addr.word", w);
        OFF("bufslot.data", buf_ioreq_t, data);
    }

    SIZE("dmop.size", struct xen_dm_op);
    OFF("dmop.u", struct xen_dm_op, u);
    SIZE("dmop.buf.size", struct xen_dm_op_buf);
    SIZE("dmop.create.size", struct xen_dm_op_create_ioreq_server);
    OFF("dmop.create.id", struct xen_dm_op_create_ioreq_server, id);
    SIZE("dmop.info.size", struct xen_dm_op_get_ioreq_server_info);
    OFF("dmop.info.flags", struct xen_dm_op_get_ioreq_server_info, flags);
    OFF("dmop.info.bufioreq_port", struct xen_dm_op_get_ioreq_server_info, bufioreq_port);
    OFF("dmop.info.ioreq_gfn", struct xen_dm_op_get_ioreq_server_info, ioreq_gfn);
    OFF("dmop.info.bufioreq_gfn", struct xen_dm_op_get_ioreq_server_info, bufioreq_gfn);
    SIZE("dmop.range.size", struct xen_dm_op_ioreq_server_range);
    OFF("dmop.range.type", struct xen_dm_op_ioreq_server_range, type);
    OFF("dmop.range.start", struct xen_dm_op_ioreq_server_range, start);
    OFF("dmop.range.end", struct xen_dm_op_ioreq_server_range, end);
    SIZE("dmop.state.size", struct xen_dm_op_set_ioreq_server_state);
    OFF("dmop.state.enabled", struct xen_dm_op_set_ioreq_server_state, enabled);
    SIZE("dmop.destroy.size", struct xen_dm_op_destroy_ioreq_server);
    SIZE("dmop.memtype.size", struct xen_dm_op_set_mem_type);
    OFF("dmop.memtype.mem_type", struct xen_dm_op_set_mem_type, mem_type);
    OFF("dmop.memtype.first_pfn", struct xen_dm_op_set_mem_type, first_pfn);
    SIZE("dmop.msi.size", struct xen_dm_op_inject_msi);
    OFF("dmop.msi.addr", struct xen_dm_op_inject_msi, addr);
    SIZE("dmop.mapmemtype.size", struct xen_dm_op_map_mem_type_to_ioreq_server);
    OFF("dmop.mapmemtype.type", struct xen_dm_op_map_mem_type_to_ioreq_server, type);
    OFF("dmop.mapmemtype.flags", struct xen_dm_op_map_mem_type_to_ioreq_server, flags);
    OFF("dmop.mapmemtype.opaque", struct xen_dm_op_map_mem_type_to_ioreq_server, opaque);
    SIZE("dmop.nrvcpus.size", struct xen_dm_op_nr_vcpus);
    SIZE("dmop.extent.size", struct xen_dm_op_modified_memory_extent);
    OFF("dmop.extent.first_pfn", struct xen_dm_op_modified_memory_extent, first_pfn);
    VAL("op.create", XEN_DMOP_create_ioreq_server);
    VAL("op.info", XEN_DMOP_get_ioreq_server_info);
    VAL("op.map_range", XEN_DMOP_map_io_range_to_ioreq_server);
    VAL("op.unmap_range", XEN_DMOP_unmap_io_range_from_ioreq_server);
    VAL("op.state", XEN_DMOP_set_ioreq_server_state);
    VAL("op.destroy", XEN_DMOP_destroy_ioreq_server);
    VAL("op.modified_memory", XEN_DMOP_modified_memory);
    VAL("op.set_mem_type", XEN_DMOP_set_mem_type);
    VAL("op.inject_msi", XEN_DMOP_inject_msi);
    VAL("op.map_mem_type", XEN_DMOP_map_mem_type_to_ioreq_server);
    VAL("op.nr_vcpus", XEN_DMOP_nr_vcpus);
    VAL("no_gfns", XEN_DMOP_no_gfns);
    VAL("range.port", XEN_DMOP_IO_RANGE_PORT);
    VAL("range.memory", XEN_DMOP_IO_RANGE_MEMORY);
    VAL("range.pci", XEN_DMOP_IO_RANGE_PCI);
    VAL("access.read", XEN_DMOP_IOREQ_MEM_ACCESS_READ);
    VAL("access.write", XEN_DMOP_IOREQ_MEM_ACCESS_WRITE);
    VAL("sbdf.example", XEN_DMOP_PCI_SBDF(1, 0x80, 0x1f, 7));
    VAL("hvmmem.ram_rw", HVMMEM_ram_rw);
    VAL("hvmmem.ram_ro", HVMMEM_ram_ro);
    VAL("hvmmem.mmio_dm", HVMMEM_mmio_dm);
    VAL("hvmmem.ioreq_server", HVMMEM_ioreq_server);
    VAL("bufioreq.off", HVM_IOREQSRV_BUFIOREQ_OFF);
    VAL("bufioreq.legacy", HVM_IOREQSRV_BUFIOREQ_LEGACY);
    VAL("bufioreq.atomic", HVM_IOREQSRV_BUFIOREQ_ATOMIC);
    return 0;
}
