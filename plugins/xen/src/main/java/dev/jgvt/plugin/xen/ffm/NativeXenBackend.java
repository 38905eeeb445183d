package dev.jgvt.plugin.xen.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.abi.XenConst;
import dev.jgvt.plugin.xen.lib.XenBackend;
import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenDeviceModelOps;
import dev.jgvt.plugin.xen.lib.XenEventChannels;
import dev.jgvt.plugin.xen.lib.XenForeignMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The real Xen libraries through FFM. {@link #open()} opens a quiet logger (a stdio logger on stderr at
 * CRITICAL, so the libraries' ERROR lines such as "xencall: error: Could not obtain handle on privileged
 * command interface" never print) and a device-model and a foreign-memory handle with it; event-channel
 * handles are opened per ioreq thread. Off Xen the opens return NULL with ENOENT and {@link #open()} fails
 * with the one-line reason {@value #NOT_A_DOM0}. No function other than {@code *_close} is ever called
 * with a NULL handle.
 */
public final class NativeXenBackend implements XenBackend {
    public static final String NOT_A_DOM0 = "Xen not available (not a dom0)";

    private final NativeXenLibraries libs;
    private final MemorySegment logger;
    private final MemorySegment dmHandle;
    private final MemorySegment fmHandle;
    private final DeviceModel deviceModel = new DeviceModel();
    private final ForeignMemory foreignMemory = new ForeignMemory();
    private boolean closed;

    /** Why the native backend cannot be opened (one line). */
    public static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String reason) {
            super(reason, null, false, false);
        }
    }

    private NativeXenBackend(NativeXenLibraries libs, MemorySegment logger, MemorySegment dmHandle, MemorySegment fmHandle) {
        this.libs = libs;
        this.logger = logger;
        this.dmHandle = dmHandle;
        this.fmHandle = fmHandle;
    }

    /** Opens the libraries and handles, or says in one line why not. Never prints. */
    public static NativeXenBackend open() throws Unavailable {
        NativeXenLibraries libs;
        try {
            libs = NativeXenLibraries.load();
        } catch (NativeXenLibraries.Unavailable e) {
            throw new Unavailable(e.getMessage());
        }
        return open(libs);
    }

    /** The reason {@link #open()} would fail, or null when Xen is usable; closes what it opened. */
    public static String probe() {
        try (NativeXenBackend backend = open()) {
            backend.openEventChannels().close();
            return null;
        } catch (Unavailable e) {
            return e.getMessage();
        } catch (XenCallException e) {
            return reason("xenevtchn_open", e.errno());
        }
    }

    static String reason(String call, int errno) {
        return switch (errno) {
            case Errno.ENOENT -> NOT_A_DOM0;
            case Errno.EACCES, Errno.EPERM -> "Xen present but " + call + " was refused (" + Errno.name(errno)
                    + "): run the engine as root in dom0";
            default -> "Xen not available (" + call + ": " + Errno.name(errno) + ")";
        };
    }

    static NativeXenBackend open(NativeXenLibraries libs) throws Unavailable {
        MemorySegment logger;
        try {
            logger = (MemorySegment) libs.xtlCreateStdio.invokeExact(libs.stderrFile, NativeXenLibraries.XTL_CRITICAL, 0);
        } catch (Throwable t) {
            throw new Unavailable("xtl_createlogger_stdiostream failed: " + t);
        }
        if (logger.equals(MemorySegment.NULL)) {
            throw new Unavailable("xtl_createlogger_stdiostream returned NULL");
        }
        MemorySegment dm = MemorySegment.NULL;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(libs.captureLayout);
            dm = (MemorySegment) libs.dmOpen.invokeExact(capture, logger, 0);
            if (dm.equals(MemorySegment.NULL)) {
                throw new Unavailable(reason("xendevicemodel_open", libs.errno(capture)));
            }
            MemorySegment fm = (MemorySegment) libs.fmOpen.invokeExact(capture, logger, 0);
            if (fm.equals(MemorySegment.NULL)) {
                throw new Unavailable(reason("xenforeignmemory_open", libs.errno(capture)));
            }
            return new NativeXenBackend(libs, logger, dm, fm);
        } catch (Unavailable e) {
            closeQuietly(libs, libs.dmClose, dm);
            destroyLogger(libs, logger);
            throw e;
        } catch (Throwable t) {
            closeQuietly(libs, libs.dmClose, dm);
            destroyLogger(libs, logger);
            throw new Unavailable("Xen library call failed: " + t);
        }
    }

    private static void closeQuietly(NativeXenLibraries libs, MethodHandle close, MemorySegment handle) {
        if (handle.equals(MemorySegment.NULL)) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) close.invokeExact(arena.allocate(libs.captureLayout), handle);
        } catch (Throwable t) {
            // closing on an error path: nothing more to do
        }
    }

    private static void destroyLogger(NativeXenLibraries libs, MemorySegment logger) {
        try {
            libs.xtlDestroy.invokeExact(logger);
        } catch (Throwable t) {
            // nothing more to do
        }
    }

    /** Calls {@code xendevicemodel_close(NULL)}-style closes: 0 from the library. For the off-Xen tests. */
    static int closeNull(NativeXenLibraries libs) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(libs.captureLayout);
            int a = (int) libs.dmClose.invokeExact(capture, MemorySegment.NULL);
            int b = (int) libs.fmClose.invokeExact(capture, MemorySegment.NULL);
            int c = (int) libs.evClose.invokeExact(capture, MemorySegment.NULL);
            return a | b | c;
        }
    }

    @Override
    public String description() {
        return "native Xen (libxendevicemodel, libxenforeignmemory, libxenevtchn)";
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
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(libs.captureLayout);
            MemorySegment handle = (MemorySegment) libs.evOpen.invokeExact(capture, logger, 0);
            if (handle.equals(MemorySegment.NULL)) {
                throw new XenCallException("xenevtchn_open", libs.errno(capture));
            }
            return new EventChannels(handle);
        } catch (XenCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("xenevtchn_open: " + t, t);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(libs, libs.dmClose, dmHandle);
        closeQuietly(libs, libs.fmClose, fmHandle);
        destroyLogger(libs, logger);
    }

    private static int domid(int domid) {
        return domid & 0xFFFF;
    }

    /** Runs an int-returning call (0 = success, -1 + errno); args exclude the capture segment. */
    private int call(String name, MethodHandle handle, Object... args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(libs.captureLayout);
            Object[] all = new Object[args.length + 1];
            all[0] = capture;
            System.arraycopy(args, 0, all, 1, args.length);
            int rc = (int) handle.invokeWithArguments(all);
            if (rc < 0) {
                throw new XenCallException(name, libs.errno(capture));
            }
            return rc;
        } catch (XenCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name + ": " + t, t);
        }
    }

    private final class DeviceModel implements XenDeviceModelOps {
        @Override
        public int createIoreqServer(int domid, int handleBufioreq) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment id = arena.allocate(JAVA_SHORT);
                call("xendevicemodel_create_ioreq_server", libs.dmCreateServer, dmHandle, (short) domid(domid), handleBufioreq, id);
                return Short.toUnsignedInt(id.get(JAVA_SHORT, 0));
            }
        }

        @Override
        public IoreqServerInfo getIoreqServerInfo(int domid, int id, boolean wantGfns) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ioreq = wantGfns ? arena.allocate(JAVA_LONG) : MemorySegment.NULL;
                MemorySegment buf = wantGfns ? arena.allocate(JAVA_LONG) : MemorySegment.NULL;
                MemorySegment port = arena.allocate(JAVA_INT);
                call("xendevicemodel_get_ioreq_server_info", libs.dmGetInfo, dmHandle, (short) domid(domid), (short) id,
                        ioreq, buf, port);
                return new IoreqServerInfo(wantGfns ? ioreq.get(JAVA_LONG, 0) : -1, wantGfns ? buf.get(JAVA_LONG, 0) : -1,
                        port.get(JAVA_INT, 0));
            }
        }

        @Override
        public void mapIoRangeToIoreqServer(int domid, int id, boolean mmio, long start, long end) {
            call("xendevicemodel_map_io_range_to_ioreq_server", libs.dmMapIoRange, dmHandle, (short) domid(domid), (short) id,
                    mmio ? 1 : 0, start, end);
        }

        @Override
        public void unmapIoRangeFromIoreqServer(int domid, int id, boolean mmio, long start, long end) {
            call("xendevicemodel_unmap_io_range_from_ioreq_server", libs.dmUnmapIoRange, dmHandle, (short) domid(domid),
                    (short) id, mmio ? 1 : 0, start, end);
        }

        @Override
        public void mapPcidevToIoreqServer(int domid, int id, int segment, int bus, int device, int function) {
            call("xendevicemodel_map_pcidev_to_ioreq_server", libs.dmMapPcidev, dmHandle, (short) domid(domid), (short) id,
                    (short) segment, (byte) bus, (byte) device, (byte) function);
        }

        @Override
        public void unmapPcidevFromIoreqServer(int domid, int id, int segment, int bus, int device, int function) {
            call("xendevicemodel_unmap_pcidev_from_ioreq_server", libs.dmUnmapPcidev, dmHandle, (short) domid(domid),
                    (short) id, (short) segment, (byte) bus, (byte) device, (byte) function);
        }

        @Override
        public void mapMemTypeToIoreqServer(int domid, int id, int memType, int flags) {
            call("xendevicemodel_map_mem_type_to_ioreq_server", libs.dmMapMemType, dmHandle, (short) domid(domid), (short) id,
                    (short) memType, flags);
        }

        @Override
        public void setIoreqServerState(int domid, int id, boolean enabled) {
            call("xendevicemodel_set_ioreq_server_state", libs.dmSetState, dmHandle, (short) domid(domid), (short) id,
                    enabled ? 1 : 0);
        }

        @Override
        public void destroyIoreqServer(int domid, int id) {
            call("xendevicemodel_destroy_ioreq_server", libs.dmDestroyServer, dmHandle, (short) domid(domid), (short) id);
        }

        @Override
        public void setMemType(int domid, int memType, long firstPfn, int nr) {
            call("xendevicemodel_set_mem_type", libs.dmSetMemType, dmHandle, (short) domid(domid), memType, firstPfn, nr);
        }

        @Override
        public void injectMsi(int domid, long address, int data) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = arena.allocate(libs.captureLayout);
                int rc = (int) libs.dmInjectMsi.invokeExact(capture, dmHandle, (short) domid(domid), address, data);
                if (rc < 0) {
                    throw new XenCallException("xendevicemodel_inject_msi", libs.errno(capture));
                }
            } catch (XenCallException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("xendevicemodel_inject_msi: " + t, t);
            }
        }

        @Override
        public int nrVcpus(int domid) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment vcpus = arena.allocate(JAVA_INT);
                call("xendevicemodel_nr_vcpus", libs.dmNrVcpus, dmHandle, (short) domid(domid), vcpus);
                return vcpus.get(JAVA_INT, 0);
            }
        }

        @Override
        public void close() {}
    }

    private final class ForeignMemory implements XenForeignMemory {
        @Override
        public ForeignMapping map(int domid, boolean writable, long[] gfns, int[] err) {
            int prot = XenConst.PROT_READ | (writable ? XenConst.PROT_WRITE : 0);
            MemorySegment address;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = arena.allocate(libs.captureLayout);
                MemorySegment array = arena.allocateFrom(JAVA_LONG, gfns);
                MemorySegment errors = err == null ? MemorySegment.NULL : arena.allocate(JAVA_INT, gfns.length);
                address = (MemorySegment) libs.fmMap.invokeExact(capture, fmHandle, domid, prot, (long) gfns.length, array, errors);
                if (address.equals(MemorySegment.NULL)) {
                    throw new XenCallException("xenforeignmemory_map", libs.errno(capture));
                }
                if (err != null) {
                    MemorySegment.copy(errors, JAVA_INT, 0, err, 0, gfns.length);
                }
            } catch (XenCallException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("xenforeignmemory_map: " + t, t);
            }
            long pages = gfns.length;
            MemorySegment mapped = address;
            return new Mapping(mapped, pages * XenConst.PAGE_SIZE,
                    () -> call("xenforeignmemory_unmap", libs.fmUnmap, fmHandle, mapped, pages));
        }

        @Override
        public ForeignMapping mapResource(int domid, int type, int id, long frame, int nrFrames, boolean writable) {
            int prot = XenConst.PROT_READ | (writable ? XenConst.PROT_WRITE : 0);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = arena.allocate(libs.captureLayout);
                MemorySegment where = arena.allocate(ADDRESS);
                where.set(ADDRESS, 0, MemorySegment.NULL);
                MemorySegment resource = (MemorySegment) libs.fmMapResource.invokeExact(capture, fmHandle, (short) domid(domid),
                        type, id, frame, (long) nrFrames, where, prot, 0);
                if (resource.equals(MemorySegment.NULL)) {
                    throw new XenCallException("xenforeignmemory_map_resource", libs.errno(capture));
                }
                MemorySegment address = where.get(ADDRESS, 0);
                return new Mapping(address, (long) nrFrames * XenConst.PAGE_SIZE,
                        () -> call("xenforeignmemory_unmap_resource", libs.fmUnmapResource, fmHandle, resource));
            } catch (XenCallException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("xenforeignmemory_map_resource: " + t, t);
            }
        }

        @Override
        public void close() {}
    }

    /** A native mapping whose segment lives in an arena closed before the memory is unmapped. */
    private static final class Mapping implements XenForeignMemory.ForeignMapping {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment segment;
        private final Runnable unmap;
        private boolean closed;

        Mapping(MemorySegment address, long bytes, Runnable unmap) {
            this.segment = address.reinterpret(bytes, arena, null);
            this.unmap = unmap;
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
                unmap.run();
            }
        }
    }

    private final class EventChannels implements XenEventChannels {
        private static final short POLLIN = 1;
        private final MemorySegment handle;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment pollfd;
        private final MemorySegment capture;
        private boolean evClosed;

        EventChannels(MemorySegment handle) {
            this.handle = handle;
            this.pollfd = arena.allocate(8, 4);
            this.capture = arena.allocate(libs.captureLayout);
            pollfd.set(JAVA_INT, 0, call("xenevtchn_fd", libs.evFd, handle));
            pollfd.set(JAVA_SHORT, 4, POLLIN);
        }

        @Override
        public int bindInterdomain(int domid, int remotePort) {
            return call("xenevtchn_bind_interdomain", libs.evBindInterdomain, handle, domid, remotePort);
        }

        @Override
        public void unbind(int localPort) {
            call("xenevtchn_unbind", libs.evUnbind, handle, localPort);
        }

        @Override
        public void notify(int localPort) {
            try {
                int rc = (int) libs.evNotify.invokeExact(capture, handle, localPort);
                if (rc < 0) {
                    throw new XenCallException("xenevtchn_notify", libs.errno(capture));
                }
            } catch (XenCallException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("xenevtchn_notify: " + t, t);
            }
        }

        @Override
        public int pending(long timeoutMillis) {
            try {
                pollfd.set(JAVA_SHORT, 6, (short) 0);
                int ready = (int) libs.poll.invokeExact(capture, pollfd, 1L, (int) Math.min(timeoutMillis, Integer.MAX_VALUE));
                if (ready <= 0) {
                    return -1; // timeout, or EINTR
                }
                int port = (int) libs.evPending.invokeExact(capture, handle);
                if (port < 0) {
                    int errno = libs.errno(capture);
                    if (errno == Errno.EAGAIN) {
                        return -1;
                    }
                    throw new XenCallException("xenevtchn_pending", errno);
                }
                return port;
            } catch (XenCallException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("xenevtchn_pending: " + t, t);
            }
        }

        @Override
        public void unmask(int localPort) {
            try {
                int rc = (int) libs.evUnmask.invokeExact(capture, handle, localPort);
                if (rc < 0) {
                    throw new XenCallException("xenevtchn_unmask", libs.errno(capture));
                }
            } catch (XenCallException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("xenevtchn_unmask: " + t, t);
            }
        }

        @Override
        public synchronized void close() {
            if (evClosed) {
                return;
            }
            evClosed = true;
            closeQuietly(libs, libs.evClose, handle);
            arena.close();
        }
    }
}
