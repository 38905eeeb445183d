package dev.jgvt.plugin.xen.abi;

/** Numeric constants of Xen's public interface that the plugin uses. */
public final class XenConst {
    /** {@code hvmmem_type_t}. */
    public static final int HVMMEM_RAM_RW = 0;
    public static final int HVMMEM_RAM_RO = 1;
    public static final int HVMMEM_MMIO_DM = 2;
    public static final int HVMMEM_UNUSED = 3;
    public static final int HVMMEM_IOREQ_SERVER = 4;

    /** {@code XEN_DMOP_IO_RANGE_*}; ranges are inclusive. */
    public static final int IO_RANGE_PORT = 0;
    public static final int IO_RANGE_MEMORY = 1;
    public static final int IO_RANGE_PCI = 2;

    /** {@code XEN_DMOP_IOREQ_MEM_ACCESS_*}; only WRITE is accepted, 0 releases the claim. */
    public static final int IOREQ_MEM_ACCESS_READ = 1;
    public static final int IOREQ_MEM_ACCESS_WRITE = 2;

    /** Limits in Xen's source: servers per domain and ranges per type per server. */
    public static final int MAX_NR_IOREQ_SERVERS = 8;
    public static final int MAX_NR_IO_RANGES = 256;

    /** {@code XENMEM_resource_ioreq_server}; frame 0 = buffered page, frame 1 + n = synchronous page n. */
    public static final int RESOURCE_IOREQ_SERVER = 0;
    public static final int RESOURCE_FRAME_BUFIOREQ = 0;
    public static final int RESOURCE_FRAME_IOREQ = 1;

    /** mmap protections for foreign mappings. */
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;

    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;

    private XenConst() {}

    /** Xen's PCI SBDF encoding: {@code (seg << 16) | (bus << 8) | (dev << 3) | fn}. */
    public static int sbdf(int segment, int bus, int device, int function) {
        return ((segment & 0xFFFF) << 16) | ((bus & 0xFF) << 8) | ((device & 0x1F) << 3) | (function & 0x7);
    }
}
