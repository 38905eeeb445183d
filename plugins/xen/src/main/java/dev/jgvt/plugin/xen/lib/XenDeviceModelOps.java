package dev.jgvt.plugin.xen.lib;

/**
 * libxendevicemodel: the device-model operations ({@code xendevicemodel_*}, one {@code XEN_DMOP_*} each).
 * Every method fails with {@link XenCallException} carrying the errno the C function reports; argument
 * checks the C library does before the hypercall (device &le; 0x1f, function &le; 7, mem type and flags)
 * fail with EINVAL exactly as there. Domain ids are {@code domid_t} (u16), server ids {@code ioservid_t}.
 */
public interface XenDeviceModelOps extends AutoCloseable {
    /** {@code xendevicemodel_create_ioreq_server}; returns the new server's id. */
    int createIoreqServer(int domid, int handleBufioreq);

    /**
     * {@code xendevicemodel_get_ioreq_server_info}. With {@code wantGfns} false both gfn pointers are NULL,
     * which makes the library set {@code XEN_DMOP_no_gfns} (no guest gfns are allocated).
     */
    IoreqServerInfo getIoreqServerInfo(int domid, int id, boolean wantGfns);

    /** {@code xendevicemodel_map_io_range_to_ioreq_server}; {@code end} inclusive. */
    void mapIoRangeToIoreqServer(int domid, int id, boolean mmio, long start, long end);

    /** {@code xendevicemodel_unmap_io_range_from_ioreq_server}. */
    void unmapIoRangeFromIoreqServer(int domid, int id, boolean mmio, long start, long end);

    /** {@code xendevicemodel_map_pcidev_to_ioreq_server}. */
    void mapPcidevToIoreqServer(int domid, int id, int segment, int bus, int device, int function);

    /** {@code xendevicemodel_unmap_pcidev_from_ioreq_server}. */
    void unmapPcidevFromIoreqServer(int domid, int id, int segment, int bus, int device, int function);

    /** {@code xendevicemodel_map_mem_type_to_ioreq_server}; flags 2 claims writes, 0 releases. */
    void mapMemTypeToIoreqServer(int domid, int id, int memType, int flags);

    /** {@code xendevicemodel_set_ioreq_server_state}. */
    void setIoreqServerState(int domid, int id, boolean enabled);

    /** {@code xendevicemodel_destroy_ioreq_server}. */
    void destroyIoreqServer(int domid, int id);

    /** {@code xendevicemodel_set_mem_type}. */
    void setMemType(int domid, int memType, long firstPfn, int nr);

    /** {@code xendevicemodel_inject_msi}. */
    void injectMsi(int domid, long address, int data);

    /** {@code xendevicemodel_nr_vcpus}. */
    int nrVcpus(int domid);

    /** {@code xendevicemodel_close}; idempotent. */
    @Override
    void close();

    /** What {@code get_ioreq_server_info} returns; a gfn is -1 when it was not asked for. */
    record IoreqServerInfo(long ioreqGfn, long bufioreqGfn, int bufioreqPort) {}
}
