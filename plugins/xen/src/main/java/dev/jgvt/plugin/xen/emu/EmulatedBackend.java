package dev.jgvt.plugin.xen.emu;

import static dev.jgvt.plugin.xen.abi.DmOp.CREATE_IOREQ_SERVER_ARGS;
import static dev.jgvt.plugin.xen.abi.DmOp.DESTROY_IOREQ_SERVER_ARGS;
import static dev.jgvt.plugin.xen.abi.DmOp.GET_IOREQ_SERVER_INFO_ARGS;
import static dev.jgvt.plugin.xen.abi.DmOp.INJECT_MSI_ARGS;
import static dev.jgvt.plugin.xen.abi.DmOp.IOREQ_SERVER_RANGE_ARGS;
import static dev.jgvt.plugin.xen.abi.DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS;
import static dev.jgvt.plugin.xen.abi.DmOp.NR_VCPUS_ARGS;
import static dev.jgvt.plugin.xen.abi.DmOp.SET_IOREQ_SERVER_STATE_ARGS;
import static dev.jgvt.plugin.xen.abi.DmOp.SET_MEM_TYPE_ARGS;

import dev.jgvt.plugin.xen.abi.DmOp;
import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.abi.XenConst;
import dev.jgvt.plugin.xen.lib.XenBackend;
import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenDeviceModelOps;
import dev.jgvt.plugin.xen.lib.XenEventChannels;
import dev.jgvt.plugin.xen.lib.XenForeignMemory;
import dev.jgvt.spi.InProcessGuest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The three Xen libraries as seen by one caller domain of an {@link EmulatedXen}. The device-model half
 * encodes each call into a {@code struct xen_dm_op} and hands the bytes to the emulated hypervisor, doing the
 * argument checks the C library does first; foreign mappings are views of guest RAM (or of Xen-owned ioreq
 * pages) in an arena of their own that unmapping closes.
 */
public final class EmulatedBackend implements XenBackend {
    private final EmulatedXen xen;
    private final int callerDomid;
    private final DeviceModel deviceModel = new DeviceModel();
    private final ForeignMemory foreignMemory = new ForeignMemory();

    EmulatedBackend(EmulatedXen xen, int callerDomid) {
        this.xen = xen;
        this.callerDomid = callerDomid;
    }

    public EmulatedXen xen() {
        return xen;
    }

    @Override
    public String description() {
        return "emulated in-process Xen (no hypervisor; device model in dom" + callerDomid + ")";
    }

    @Override
    public XenDeviceModelOps deviceModel() {
        return deviceModel;
    }

    @Override
    public XenForeignMemory foreignMemory() {
        return foreignMemory;
    }

    @Override
    public XenEventChannels openEventChannels() {
        return new EmulatedEventChannels(xen.hub, callerDomid);
    }

    @Override
    public Optional<InProcessGuest> inProcessGuest(int domid, int sbdf) {
        EmulatedDomain domain = xen.domain(domid);
        return domain == null ? Optional.empty() : Optional.of(new EmulatedGuest(domain, sbdf));
    }

    @Override
    public void close() {}

    private final class DeviceModel implements XenDeviceModelOps {
        private MemorySegment call(String name, int domid, int op, Consumer<MemorySegment> fill, Arena arena) {
            MemorySegment buf = arena.allocate(DmOp.XEN_DM_OP);
            DmOp.op(buf, op);
            fill.accept(buf);
            int rc = xen.dmOp(callerDomid, domid & 0xFFFF, buf);
            if (rc != 0) {
                throw new XenCallException(name, -rc);
            }
            return buf;
        }

        private void call(String name, int domid, int op, Consumer<MemorySegment> fill) {
            try (Arena arena = Arena.ofConfined()) {
                call(name, domid, op, fill, arena);
            }
        }

        @Override
        public int createIoreqServer(int domid, int handleBufioreq) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = call("xendevicemodel_create_ioreq_server", domid, DmOp.CREATE_IOREQ_SERVER,
                        b -> DmOp.u8(b, CREATE_IOREQ_SERVER_ARGS, "handle_bufioreq", handleBufioreq), arena);
                return DmOp.u16(buf, CREATE_IOREQ_SERVER_ARGS, "id");
            }
        }

        @Override
        public IoreqServerInfo getIoreqServerInfo(int domid, int id, boolean wantGfns) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = call("xendevicemodel_get_ioreq_server_info", domid, DmOp.GET_IOREQ_SERVER_INFO, b -> {
                    DmOp.u16(b, GET_IOREQ_SERVER_INFO_ARGS, "id", id);
                    DmOp.u16(b, GET_IOREQ_SERVER_INFO_ARGS, "flags", wantGfns ? 0 : DmOp.NO_GFNS);
                }, arena);
                return new IoreqServerInfo(
                        wantGfns ? DmOp.u64(buf, GET_IOREQ_SERVER_INFO_ARGS, "ioreq_gfn") : -1,
                        wantGfns ? DmOp.u64(buf, GET_IOREQ_SERVER_INFO_ARGS, "bufioreq_gfn") : -1,
                        DmOp.u32(buf, GET_IOREQ_SERVER_INFO_ARGS, "bufioreq_port"));
            }
        }

        private void range(String name, int op, int domid, int id, int type, long start, long end) {
            call(name, domid, op, b -> {
                DmOp.u16(b, IOREQ_SERVER_RANGE_ARGS, "id", id);
                DmOp.u32(b, IOREQ_SERVER_RANGE_ARGS, "type", type);
                DmOp.u64(b, IOREQ_SERVER_RANGE_ARGS, "start", start);
                DmOp.u64(b, IOREQ_SERVER_RANGE_ARGS, "end", end);
            });
        }

        @Override
        public void mapIoRangeToIoreqServer(int domid, int id, boolean mmio, long start, long end) {
            range("xendevicemodel_map_io_range_to_ioreq_server", DmOp.MAP_IO_RANGE_TO_IOREQ_SERVER, domid, id,
                    mmio ? XenConst.IO_RANGE_MEMORY : XenConst.IO_RANGE_PORT, start, end);
        }

        @Override
        public void unmapIoRangeFromIoreqServer(int domid, int id, boolean mmio, long start, long end) {
            range("xendevicemodel_unmap_io_range_from_ioreq_server", DmOp.UNMAP_IO_RANGE_FROM_IOREQ_SERVER, domid, id,
                    mmio ? XenConst.IO_RANGE_MEMORY : XenConst.IO_RANGE_PORT, start, end);
        }

        private int sbdf(String name, int segment, int bus, int device, int function) {
            if (device < 0 || device > 0x1F || function < 0 || function > 7) {
                throw new XenCallException(name, Errno.EINVAL, "device " + device + " function " + function);
            }
            return XenConst.sbdf(segment, bus, device, function);
        }

        @Override
        public void mapPcidevToIoreqServer(int domid, int id, int segment, int bus, int device, int function) {
            String name = "xendevicemodel_map_pcidev_to_ioreq_server";
            int sbdf = sbdf(name, segment, bus, device, function);
            range(name, DmOp.MAP_IO_RANGE_TO_IOREQ_SERVER, domid, id, XenConst.IO_RANGE_PCI, sbdf, sbdf);
        }

        @Override
        public void unmapPcidevFromIoreqServer(int domid, int id, int segment, int bus, int device, int function) {
            String name = "xendevicemodel_unmap_pcidev_from_ioreq_server";
            int sbdf = sbdf(name, segment, bus, device, function);
            range(name, DmOp.UNMAP_IO_RANGE_FROM_IOREQ_SERVER, domid, id, XenConst.IO_RANGE_PCI, sbdf, sbdf);
        }

        @Override
        public void mapMemTypeToIoreqServer(int domid, int id, int memType, int flags) {
            String name = "xendevicemodel_map_mem_type_to_ioreq_server";
            if (memType != XenConst.HVMMEM_IOREQ_SERVER || (flags & ~XenConst.IOREQ_MEM_ACCESS_WRITE) != 0) {
                throw new XenCallException(name, Errno.EINVAL, "type " + memType + " flags " + flags);
            }
            call(name, domid, DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER, b -> {
                DmOp.u16(b, MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "id", id);
                DmOp.u16(b, MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "type", memType);
                DmOp.u32(b, MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "flags", flags);
            });
        }

        @Override
        public void setIoreqServerState(int domid, int id, boolean enabled) {
            call("xendevicemodel_set_ioreq_server_state", domid, DmOp.SET_IOREQ_SERVER_STATE, b -> {
                DmOp.u16(b, SET_IOREQ_SERVER_STATE_ARGS, "id", id);
                DmOp.u8(b, SET_IOREQ_SERVER_STATE_ARGS, "enabled", enabled ? 1 : 0);
            });
        }

        @Override
        public void destroyIoreqServer(int domid, int id) {
            call("xendevicemodel_destroy_ioreq_server", domid, DmOp.DESTROY_IOREQ_SERVER,
                    b -> DmOp.u16(b, DESTROY_IOREQ_SERVER_ARGS, "id", id));
        }

        @Override
        public void setMemType(int domid, int memType, long firstPfn, int nr) {
            call("xendevicemodel_set_mem_type", domid, DmOp.SET_MEM_TYPE, b -> {
                DmOp.u32(b, SET_MEM_TYPE_ARGS, "nr", nr);
                DmOp.u16(b, SET_MEM_TYPE_ARGS, "mem_type", memType);
                DmOp.u64(b, SET_MEM_TYPE_ARGS, "first_pfn", firstPfn);
            });
        }

        @Override
        public void injectMsi(int domid, long address, int data) {
            call("xendevicemodel_inject_msi", domid, DmOp.INJECT_MSI, b -> {
                DmOp.u32(b, INJECT_MSI_ARGS, "data", data);
                DmOp.u64(b, INJECT_MSI_ARGS, "addr", address);
            });
        }

        @Override
        public int nrVcpus(int domid) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = call("xendevicemodel_nr_vcpus", domid, DmOp.NR_VCPUS, b -> {}, arena);
                return DmOp.u32(buf, NR_VCPUS_ARGS, "vcpus");
            }
        }

        @Override
        public void close() {}
    }

    /** A mapping: an alias of existing memory in an arena of its own. */
    private static final class Mapping implements XenForeignMemory.ForeignMapping {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment segment;
        private boolean closed;

        Mapping(long address, long bytes) {
            this.segment = MemorySegment.ofAddress(address).reinterpret(bytes, arena, null);
        }

        @Override
        public MemorySegment segment() {
            return segment;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                arena.close();
            }
        }
    }

    private final class ForeignMemory implements XenForeignMemory {
        @Override
        public ForeignMapping map(int domid, boolean writable, long[] gfns, int[] err) {
            String name = "xenforeignmemory_map";
            EmulatedDomain d = xen.domain(domid);
            if (d == null) {
                throw new XenCallException(name, Errno.ESRCH, "no domain " + domid);
            }
            if (gfns.length == 0 || (err != null && err.length < gfns.length)) {
                throw new XenCallException(name, Errno.EINVAL);
            }
            d.lock.lock();
            try {
                if (gfns.length == 1 && d.specialPages.containsKey(gfns[0])) {
                    if (err != null) {
                        err[0] = 0;
                    }
                    return new Mapping(d.specialPages.get(gfns[0]).address(), XenConst.PAGE_SIZE);
                }
                for (int i = 0; i < gfns.length; i++) {
                    if (gfns[i] != gfns[0] + i) {
                        // Real privcmd maps any gfn list; this emulation aliases memory and needs consecutive frames.
                        throw new XenCallException(name, Errno.EINVAL, "emulated foreign maps need consecutive gfns");
                    }
                }
                long first = gfns[0];
                boolean special = first >= EmulatedDomain.SPECIAL_REGION_GFN && first + gfns.length <= EmulatedDomain.SPECIAL_REGION_GFN + 256;
                int firstError = 0;
                for (int i = 0; i < gfns.length; i++) {
                    long gfn = gfns[i];
                    boolean backed = special
                            ? gfn >= EmulatedDomain.BOUNCE_GFN && gfn < EmulatedDomain.BOUNCE_GFN + EmulatedDomain.BOUNCE_PAGES
                            : gfn >= 0 && gfn <= d.maxGpfn && d.populated.get((int) gfn);
                    int e = backed ? 0 : -Errno.EINVAL;
                    if (err != null) {
                        err[i] = e;
                    }
                    if (e != 0 && firstError == 0) {
                        firstError = -e;
                    }
                }
                if (err == null && firstError != 0) {
                    throw new XenCallException(name, firstError);
                }
                if (special) {
                    long offset = (first - EmulatedDomain.SPECIAL_REGION_GFN) * XenConst.PAGE_SIZE;
                    return new Mapping(d.specialRegion.address() + offset, (long) gfns.length * XenConst.PAGE_SIZE);
                }
                // Frames past the end of RAM are not backed here: the alias covers RAM only (they are holes).
                long start = Math.min(Math.max(first, 0), d.maxGpfn);
                long bytes = Math.max(XenConst.PAGE_SIZE,
                        Math.min((long) gfns.length, d.maxGpfn + 1 - start) * XenConst.PAGE_SIZE);
                return new Mapping(d.ram.address() + start * XenConst.PAGE_SIZE, bytes);
            } finally {
                d.lock.unlock();
            }
        }

        @Override
        public ForeignMapping mapResource(int domid, int type, int id, long frame, int nrFrames, boolean writable) {
            String name = "xenforeignmemory_map_resource";
            if (!xen.acquireResourceSupported()) {
                throw new XenCallException(name, Errno.EOPNOTSUPP);
            }
            EmulatedDomain d = xen.domain(domid);
            if (d == null) {
                throw new XenCallException(name, Errno.ESRCH, "no domain " + domid);
            }
            if (type != XenConst.RESOURCE_IOREQ_SERVER || nrFrames != 1) {
                throw new XenCallException(name, Errno.EINVAL, "type " + type + " frames " + nrFrames);
            }
            d.lock.lock();
            try {
                EmulatedIoreqServer s = id >= 0 && id < d.servers.length ? d.servers[id] : null;
                if (s == null) {
                    throw new XenCallException(name, Errno.ENOENT, "no ioreq server " + id);
                }
                if (s.creatorDomid != callerDomid || s.pageMethod == EmulatedIoreqServer.PageMethod.GFNS) {
                    throw new XenCallException(name, Errno.EPERM);
                }
                MemorySegment page;
                if (frame == XenConst.RESOURCE_FRAME_BUFIOREQ) {
                    if (s.bufioreqPage == null) {
                        throw new XenCallException(name, Errno.ENOENT, "server " + id + " has no buffered page");
                    }
                    page = s.bufioreqPage;
                } else if (frame == XenConst.RESOURCE_FRAME_IOREQ) {
                    page = s.ioreqPage;
                } else {
                    throw new XenCallException(name, Errno.EINVAL, "frame " + frame);
                }
                s.pageMethod = EmulatedIoreqServer.PageMethod.RESOURCE;
                return new Mapping(page.address(), XenConst.PAGE_SIZE);
            } finally {
                d.lock.unlock();
            }
        }

        @Override
        public void close() {}
    }
}
