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

import dev.jgvt.plugin.xen.abi.BufferedIoreq;
import dev.jgvt.plugin.xen.abi.DmOp;
import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.abi.Ioreq;
import dev.jgvt.plugin.xen.abi.XenConst;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-process Xen: domains, ioreq servers, the {@code ioreq_server} memory type, event channels and
 * foreign mappings, with the byte layouts, limits and error numbers of the real hypervisor (Xen 4.17).
 * Device-model operations arrive as 32-byte {@code struct xen_dm_op} buffers (see {@link DmOp}), exactly as
 * libxendevicemodel builds them. Obtain the library view for a caller domain with {@link #backend(int)}.
 */
public final class EmulatedXen implements AutoCloseable {
    final EventChannelHub hub = new EventChannelHub();
    private final Map<Integer, EmulatedDomain> domains = new ConcurrentHashMap<>();
    private volatile boolean hap = true;
    private volatile boolean acquireResource = true;

    /** Creates HVM domain {@code domid} with {@code ramBytes} of RAM (a multiple of 4096) and {@code vcpus} vCPUs. */
    public EmulatedDomain createDomain(int domid, long ramBytes, int vcpus) {
        if (domid <= 0 || domid >= 0x7FF0) {
            throw new IllegalArgumentException("not a guest domain id: " + domid);
        }
        if (ramBytes <= 0 || (ramBytes & 0xFFF) != 0 || ramBytes > EmulatedDomain.SPECIAL_REGION_GFN << 12) {
            throw new IllegalArgumentException("RAM must be a positive multiple of 4096 below the special pages: " + ramBytes);
        }
        if (vcpus < 1 || vcpus > Ioreq.SLOTS_PER_PAGE) {
            throw new IllegalArgumentException("vCPUs must be 1.." + Ioreq.SLOTS_PER_PAGE + ": " + vcpus);
        }
        EmulatedDomain domain = new EmulatedDomain(this, domid, ramBytes, vcpus);
        if (domains.putIfAbsent(domid, domain) != null) {
            domain.arena.close();
            throw new IllegalArgumentException("domain " + domid + " exists");
        }
        return domain;
    }

    public EmulatedDomain domain(int domid) {
        return domains.get(domid);
    }

    /** The three libraries as domain {@code callerDomid} (the device-model domain, usually 0) sees them. */
    public EmulatedBackend backend(int callerDomid) {
        return new EmulatedBackend(this, callerDomid);
    }

    /** Simulates a host without HAP/EPT: {@code set_mem_type} to ioreq_server fails with EOPNOTSUPP. */
    public void hap(boolean enabled) {
        this.hap = enabled;
    }

    /** Simulates a kernel or Xen without {@code XENMEM_acquire_resource} (map_resource fails with EOPNOTSUPP). */
    public void acquireResource(boolean supported) {
        this.acquireResource = supported;
    }

    boolean acquireResourceSupported() {
        return acquireResource;
    }

    @Override
    public void close() {
        for (EmulatedDomain domain : domains.values()) {
            domain.arena.close();
        }
        domains.clear();
    }

    // ---------------------------------------------------------------- dm_op

    /** Executes one {@code xen_dm_op}; returns 0 or a negative errno, as the hypercall does. */
    int dmOp(int callerDomid, int domid, MemorySegment op) {
        EmulatedDomain d = domains.get(domid);
        if (d == null) {
            return -Errno.ESRCH;
        }
        d.lock.lock();
        try {
            return switch (DmOp.op(op)) {
                case DmOp.CREATE_IOREQ_SERVER -> createServer(callerDomid, d, op);
                case DmOp.GET_IOREQ_SERVER_INFO -> getInfo(callerDomid, d, op);
                case DmOp.MAP_IO_RANGE_TO_IOREQ_SERVER -> mapRange(callerDomid, d, op, true);
                case DmOp.UNMAP_IO_RANGE_FROM_IOREQ_SERVER -> mapRange(callerDomid, d, op, false);
                case DmOp.SET_IOREQ_SERVER_STATE -> setState(callerDomid, d, op);
                case DmOp.DESTROY_IOREQ_SERVER -> destroy(callerDomid, d, op);
                case DmOp.SET_MEM_TYPE -> setMemType(d, op);
                case DmOp.INJECT_MSI -> injectMsi(d, op);
                case DmOp.MAP_MEM_TYPE_TO_IOREQ_SERVER -> mapMemType(callerDomid, d, op);
                case DmOp.NR_VCPUS -> {
                    DmOp.u32(op, NR_VCPUS_ARGS, "vcpus", d.vcpus.length);
                    yield 0;
                }
                default -> -Errno.EOPNOTSUPP;
            };
        } finally {
            d.lock.unlock();
        }
    }

    private int createServer(int caller, EmulatedDomain d, MemorySegment op) {
        int mode = DmOp.u8(op, CREATE_IOREQ_SERVER_ARGS, "handle_bufioreq");
        if (mode > BufferedIoreq.BUFIOREQ_ATOMIC) {
            return -Errno.EINVAL;
        }
        int id = -1;
        for (int i = 0; i < d.servers.length; i++) {
            if (d.servers[i] == null) {
                id = i;
                break;
            }
        }
        if (id < 0) {
            return -Errno.ENOSPC;
        }
        EventChannelHub.Endpoint[] ports = new EventChannelHub.Endpoint[d.vcpus.length];
        for (int v = 0; v < ports.length; v++) {
            EmulatedDomain.Vcpu vcpu = d.vcpus[v];
            ports[v] = hub.allocateUnbound(d.domid, caller, vcpu.wake::release);
        }
        EventChannelHub.Endpoint bufPort = mode == BufferedIoreq.BUFIOREQ_OFF
                ? null
                : hub.allocateUnbound(d.domid, caller, () -> {});
        d.servers[id] = new EmulatedIoreqServer(id, caller, mode, d.arena, ports, bufPort);
        DmOp.u16(op, CREATE_IOREQ_SERVER_ARGS, "id", id);
        return 0;
    }

    private static EmulatedIoreqServer server(EmulatedDomain d, int id) {
        return id < d.servers.length ? d.servers[id] : null;
    }

    private static int check(int caller, EmulatedIoreqServer s) {
        if (s == null) {
            return -Errno.ENOENT;
        }
        return s.creatorDomid == caller ? 0 : -Errno.EPERM;
    }

    private int getInfo(int caller, EmulatedDomain d, MemorySegment op) {
        EmulatedIoreqServer s = server(d, DmOp.u16(op, GET_IOREQ_SERVER_INFO_ARGS, "id"));
        int rc = check(caller, s);
        if (rc != 0) {
            return rc;
        }
        boolean noGfns = (DmOp.u16(op, GET_IOREQ_SERVER_INFO_ARGS, "flags") & DmOp.NO_GFNS) != 0;
        if (!noGfns) {
            if (s.pageMethod == EmulatedIoreqServer.PageMethod.RESOURCE) {
                return -Errno.EPERM;
            }
            if (s.ioreqGfn < 0) {
                int needed = s.bufioreqPage == null ? 1 : 2;
                long[] gfns = new long[needed];
                int found = 0;
                for (int i = 0; i < EmulatedDomain.SPECIAL_PAGES && found < needed; i++) {
                    if (!d.specialUsed[i]) {
                        gfns[found++] = i;
                    }
                }
                if (found < needed) {
                    return -Errno.ENOMEM;
                }
                d.specialUsed[(int) gfns[0]] = true;
                s.ioreqGfn = EmulatedDomain.SPECIAL_PFN_BASE + gfns[0];
                d.specialPages.put(s.ioreqGfn, s.ioreqPage);
                if (needed == 2) {
                    d.specialUsed[(int) gfns[1]] = true;
                    s.bufioreqGfn = EmulatedDomain.SPECIAL_PFN_BASE + gfns[1];
                    d.specialPages.put(s.bufioreqGfn, s.bufioreqPage);
                }
                s.pageMethod = EmulatedIoreqServer.PageMethod.GFNS;
            }
            DmOp.u64(op, GET_IOREQ_SERVER_INFO_ARGS, "ioreq_gfn", s.ioreqGfn);
            DmOp.u64(op, GET_IOREQ_SERVER_INFO_ARGS, "bufioreq_gfn", s.bufioreqGfn);
        }
        DmOp.u32(op, GET_IOREQ_SERVER_INFO_ARGS, "bufioreq_port", s.bufioreqPort == null ? 0 : s.bufioreqPort.port);
        return 0;
    }

    private int mapRange(int caller, EmulatedDomain d, MemorySegment op, boolean map) {
        EmulatedIoreqServer s = server(d, DmOp.u16(op, IOREQ_SERVER_RANGE_ARGS, "id"));
        int type = DmOp.u32(op, IOREQ_SERVER_RANGE_ARGS, "type");
        long start = DmOp.u64(op, IOREQ_SERVER_RANGE_ARGS, "start");
        long end = DmOp.u64(op, IOREQ_SERVER_RANGE_ARGS, "end");
        if (Long.compareUnsigned(start, end) > 0) {
            return -Errno.EINVAL;
        }
        int rc = check(caller, s);
        if (rc != 0) {
            return rc;
        }
        if (type < XenConst.IO_RANGE_PORT || type > XenConst.IO_RANGE_PCI) {
            return -Errno.EINVAL;
        }
        if (map) {
            if (s.overlaps(type, start, end)) {
                return -Errno.EEXIST;
            }
            if (s.ranges[type].size() >= XenConst.MAX_NR_IO_RANGES) {
                return -Errno.ENOMEM; // the rangeset's limit: its allocation fails
            }
            s.ranges[type].put(start, end);
            return 0;
        }
        Map.Entry<Long, Long> entry = s.ranges[type].floorEntry(start);
        if (entry == null || entry.getValue() < end) {
            return -Errno.ENOENT;
        }
        // Removing a sub-range splits the containing one, as a rangeset does.
        s.ranges[type].remove(entry.getKey());
        if (entry.getKey() < start) {
            s.ranges[type].put(entry.getKey(), start - 1);
        }
        if (entry.getValue() > end) {
            s.ranges[type].put(end + 1, entry.getValue());
        }
        return 0;
    }

    private int setState(int caller, EmulatedDomain d, MemorySegment op) {
        EmulatedIoreqServer s = server(d, DmOp.u16(op, SET_IOREQ_SERVER_STATE_ARGS, "id"));
        int rc = check(caller, s);
        if (rc != 0) {
            return rc;
        }
        boolean enable = DmOp.u8(op, SET_IOREQ_SERVER_STATE_ARGS, "enabled") != 0;
        if (enable && !s.enabled) {
            for (int v = 0; v < s.vcpuPorts.length; v++) {
                Ioreq.vpEport(s.ioreqPage, v, s.vcpuPorts[v].port);
            }
        } else if (!enable && s.enabled && s.pageMethod == EmulatedIoreqServer.PageMethod.GFNS) {
            s.ioreqPage.fill((byte) 0); // given back to the guest physmap, cleared
        }
        s.enabled = enable;
        return 0;
    }

    private int destroy(int caller, EmulatedDomain d, MemorySegment op) {
        int id = DmOp.u16(op, DESTROY_IOREQ_SERVER_ARGS, "id");
        EmulatedIoreqServer s = server(d, id);
        int rc = check(caller, s);
        if (rc != 0) {
            return rc;
        }
        s.enabled = false;
        if (d.claimOwner == id) {
            releaseClaim(d);
        }
        for (EventChannelHub.Endpoint port : s.vcpuPorts) {
            hub.close(port);
        }
        if (s.bufioreqPort != null) {
            hub.close(s.bufioreqPort);
        }
        if (s.ioreqGfn >= 0) {
            d.specialPages.remove(s.ioreqGfn);
            d.specialUsed[(int) (s.ioreqGfn - EmulatedDomain.SPECIAL_PFN_BASE)] = false;
        }
        if (s.bufioreqGfn >= 0) {
            d.specialPages.remove(s.bufioreqGfn);
            d.specialUsed[(int) (s.bufioreqGfn - EmulatedDomain.SPECIAL_PFN_BASE)] = false;
        }
        d.servers[id] = null;
        return 0;
    }

    /** Releasing the claim turns every remaining ioreq_server frame back into ram_rw (Xen does it lazily). */
    private static void releaseClaim(EmulatedDomain d) {
        d.claimOwner = -1;
        for (int i = 0; i < d.p2m.length; i++) {
            if (d.p2m[i] == XenConst.HVMMEM_IOREQ_SERVER) {
                d.p2m[i] = XenConst.HVMMEM_RAM_RW;
            }
        }
    }

    private int mapMemType(int caller, EmulatedDomain d, MemorySegment op) {
        int id = DmOp.u16(op, MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "id");
        int type = DmOp.u16(op, MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "type");
        int flags = DmOp.u32(op, MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "flags");
        if (DmOp.u64(op, MAP_MEM_TYPE_TO_IOREQ_SERVER_ARGS, "opaque") != 0) {
            return -Errno.EINVAL;
        }
        if (type != XenConst.HVMMEM_IOREQ_SERVER || (flags != 0 && flags != XenConst.IOREQ_MEM_ACCESS_WRITE)) {
            return -Errno.EINVAL;
        }
        EmulatedIoreqServer s = server(d, id);
        int rc = check(caller, s);
        if (rc != 0) {
            return rc;
        }
        if (flags == 0) {
            if (d.claimOwner != id) {
                return -Errno.EINVAL;
            }
            releaseClaim(d);
            return 0;
        }
        if (d.claimOwner >= 0) {
            return -Errno.EBUSY;
        }
        d.claimOwner = id;
        return 0;
    }

    private int setMemType(EmulatedDomain d, MemorySegment op) {
        int nr = DmOp.u32(op, SET_MEM_TYPE_ARGS, "nr");
        int type = DmOp.u16(op, SET_MEM_TYPE_ARGS, "mem_type");
        long first = DmOp.u64(op, SET_MEM_TYPE_ARGS, "first_pfn");
        if (type != XenConst.HVMMEM_RAM_RW && type != XenConst.HVMMEM_IOREQ_SERVER) {
            return -Errno.EINVAL;
        }
        long last = first + Integer.toUnsignedLong(nr) - 1;
        if (first < 0 || Long.compareUnsigned(last, d.maxGpfn) > 0 || last < first) {
            return -Errno.EINVAL;
        }
        if (type == XenConst.HVMMEM_IOREQ_SERVER) {
            if (!hap) {
                return -Errno.EOPNOTSUPP;
            }
            if (d.claimOwner < 0) {
                return -Errno.EINVAL;
            }
        }
        for (long gfn = first; gfn <= last; gfn++) {
            int current = d.p2m[(int) gfn];
            if (!d.populated.get((int) gfn)
                    || (current != XenConst.HVMMEM_RAM_RW && current != XenConst.HVMMEM_IOREQ_SERVER)) {
                return -Errno.EINVAL;
            }
        }
        for (long gfn = first; gfn <= last; gfn++) {
            d.p2m[(int) gfn] = (byte) type;
        }
        return 0;
    }

    private static int injectMsi(EmulatedDomain d, MemorySegment op) {
        long address = DmOp.u64(op, INJECT_MSI_ARGS, "addr");
        int data = DmOp.u32(op, INJECT_MSI_ARGS, "data");
        d.deliverMsi(address, data);
        return 0;
    }
}
