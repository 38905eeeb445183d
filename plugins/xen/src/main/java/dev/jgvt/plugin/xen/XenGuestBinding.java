package dev.jgvt.plugin.xen;

import dev.jgvt.plugin.xen.abi.BufferedIoreq;
import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.abi.Ioreq;
import dev.jgvt.plugin.xen.abi.XenConst;
import dev.jgvt.plugin.xen.lib.XenBackend;
import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenDeviceModelOps;
import dev.jgvt.plugin.xen.lib.XenEventChannels;
import dev.jgvt.plugin.xen.lib.XenForeignMemory.ForeignMapping;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InProcessGuest;
import dev.jgvt.spi.InterruptSink;
import dev.jgvt.spi.PageTracker;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vGPU attached to one Xen HVM domain through an ioreq server of its own.
 *
 * <p>Attach, in order: create the server (buffered ioreqs off: every request synchronous); ask the vCPU
 * count; map the synchronous ioreq page as a Xen resource (frame 1), falling back to
 * {@code get_ioreq_server_info} plus a foreign map of its gfn on EOPNOTSUPP; claim the vGPU's PCI SBDF;
 * claim the {@code ioreq_server} memory type for writes; enable the server (Xen fills each slot's
 * {@code vp_eport} now); bind one interdomain event channel per vCPU to that port; claim the BARs the guest
 * has already programmed; start the ioreq thread.
 *
 * <p>Detach, in the reverse order and idempotently (the attach error path runs the same code on a half
 * built binding): stop the thread, disable the server, release the memory-type claim, give up the BAR
 * claims, destroy the server (Xen drops its ranges too), unbind and close the event channels, unmap the
 * ioreq page, release pins, flush and close the map cache. The server id is never used as a sentinel
 * (Xen's ids start at 0); a separate flag says whether one exists.
 */
final class XenGuestBinding implements GuestBinding {
    private static final Logger log = LoggerFactory.getLogger(XenGuestBinding.class);

    /** Where the vGPU sits on the guest's PCI bus: 00:02.0, as XenGT (and the i915 driver) expect. */
    static final int SBDF = XenConst.sbdf(0, 0, 2, 0);

    private final XenBackend backend;
    private final XenDeviceModelOps dm;
    private final int domid;
    private final String vgpuName;
    private final Runnable onClose;
    private final MapCache memory;
    private final ForeignPins pins;
    private XenPageTracker tracker;
    private MsiGate msi;
    private BarClaims bars;
    private IoreqLoop loop;
    private Thread thread;
    private XenEventChannels channels;
    private ForeignMapping ioreqPage;
    private int server;
    private boolean serverCreated;
    private boolean serverEnabled;
    private boolean memTypeClaimed;
    private boolean closed;
    private Optional<InProcessGuest> guest = Optional.empty();

    XenGuestBinding(XenBackend backend, int domid, String vgpuName, DeviceModel device, int mapCacheBuckets, Runnable onClose) {
        this.backend = backend;
        this.dm = backend.deviceModel();
        this.domid = domid;
        this.vgpuName = vgpuName;
        this.onClose = onClose;
        this.memory = new MapCache(backend.foreignMemory(), domid, mapCacheBuckets);
        this.pins = new ForeignPins(backend.foreignMemory(), domid);
        try {
            attach(device);
        } catch (RuntimeException e) {
            teardown();
            throw e instanceof GvtException g ? g : new GvtException(ErrorCode.INTERNAL, "attach of " + vgpuName + " to dom" + domid + ": " + e, e);
        }
    }

    private void attach(DeviceModel device) {
        server = call("create an ioreq server", () -> dm.createIoreqServer(domid, BufferedIoreq.BUFIOREQ_OFF));
        serverCreated = true;
        int vcpus = call("query the vCPU count", () -> dm.nrVcpus(domid));
        if (vcpus < 1 || vcpus > Ioreq.SLOTS_PER_PAGE) {
            throw new GvtException(ErrorCode.UNSUPPORTED, "dom" + domid + " has " + vcpus + " vCPUs; one ioreq page serves 1.."
                    + Ioreq.SLOTS_PER_PAGE);
        }
        ioreqPage = mapIoreqPage();
        call("claim PCI 00:02.0", () -> {
            dm.mapPcidevToIoreqServer(domid, server, 0, 0, 2, 0);
            return 0;
        });
        call("claim the ioreq_server memory type", () -> {
            dm.mapMemTypeToIoreqServer(domid, server, XenConst.HVMMEM_IOREQ_SERVER, XenConst.IOREQ_MEM_ACCESS_WRITE);
            return 0;
        });
        memTypeClaimed = true;
        call("enable the ioreq server", () -> {
            dm.setIoreqServerState(domid, server, true);
            return 0;
        });
        serverEnabled = true;
        channels = backend.openEventChannels();
        int[] localPorts = new int[vcpus];
        for (int v = 0; v < vcpus; v++) {
            int remote = Ioreq.vpEport(ioreqPage.segment(), v);
            localPorts[v] = call("bind the event channel of vCPU " + v, () -> channels.bindInterdomain(domid, remote));
        }
        tracker = new XenPageTracker(dm, memory, domid);
        msi = new MsiGate(dm, domid, device);
        bars = new BarClaims(dm, domid, server, device.layout());
        bars.update(device);
        loop = new IoreqLoop(domid, SBDF, ioreqPage.segment(), channels, localPorts, device, memory, tracker, bars, msi);
        thread = Thread.ofPlatform().daemon().name("xen-ioreq-dom" + domid).start(loop);
        guest = backend.inProcessGuest(domid, SBDF);
        log.info("{} attached to dom{}: ioreq server {}, {} vCPU(s), {}", vgpuName, domid, server, vcpus, backend.description());
    }

    private ForeignMapping mapIoreqPage() {
        try {
            return backend.foreignMemory().mapResource(domid, XenConst.RESOURCE_IOREQ_SERVER, server,
                    XenConst.RESOURCE_FRAME_IOREQ, 1, true);
        } catch (XenCallException e) {
            if (e.errno() != Errno.EOPNOTSUPP) {
                throw translate("map the ioreq page", e);
            }
        }
        long gfn = call("get the ioreq page gfn", () -> dm.getIoreqServerInfo(domid, server, true)).ioreqGfn();
        return call("map the ioreq page gfn", () -> backend.foreignMemory().map(domid, true, new long[] {gfn}, null));
    }

    private interface Call<T> {
        T run();
    }

    private <T> T call(String what, Call<T> call) {
        try {
            return call.run();
        } catch (XenCallException e) {
            throw translate(what, e);
        }
    }

    private GvtException translate(String what, XenCallException e) {
        ErrorCode code = switch (e.errno()) {
            case Errno.ESRCH -> ErrorCode.NOT_FOUND;
            case Errno.ENOSPC, Errno.ENOMEM -> ErrorCode.NO_SPACE;
            case Errno.EPERM, Errno.EACCES -> ErrorCode.PERMISSION_DENIED;
            case Errno.EEXIST -> ErrorCode.ALREADY_EXISTS;
            case Errno.EBUSY -> ErrorCode.BUSY;
            case Errno.EOPNOTSUPP -> ErrorCode.UNSUPPORTED;
            default -> ErrorCode.IO_ERROR;
        };
        return new GvtException(code, "cannot " + what + " for " + vgpuName + " in dom" + domid + ": " + e.getMessage(), e);
    }

    int domid() {
        return domid;
    }

    int server() {
        return server;
    }

    MapCache mapCache() {
        return memory;
    }

    MsiGate msi() {
        return msi;
    }

    IoreqLoop loop() {
        return loop;
    }

    private synchronized void checkOpen() {
        if (closed) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, vgpuName + " is detached from dom" + domid);
        }
    }

    @Override
    public GuestMemory memory() {
        checkOpen();
        return memory;
    }

    @Override
    public GuestPages pages() {
        checkOpen();
        return pins;
    }

    @Override
    public Optional<PageTracker> tracker() {
        checkOpen();
        return Optional.of(tracker);
    }

    @Override
    public InterruptSink interrupts() {
        checkOpen();
        return msi;
    }

    @Override
    public Optional<InProcessGuest> inProcessGuest() {
        checkOpen();
        return guest;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        teardown();
        onClose.run();
        log.info("{} detached from dom{}", vgpuName, domid);
    }

    /** Every step guarded and idempotent; failures are logged, never thrown. */
    private void teardown() {
        if (loop != null) {
            loop.stop();
        }
        if (thread != null && thread != Thread.currentThread()) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                log.warn("dom{}: ioreq thread did not stop within 5 s", domid);
            }
        }
        thread = null;
        if (serverEnabled) {
            serverEnabled = false;
            quietly("disable the ioreq server", () -> dm.setIoreqServerState(domid, server, false));
        }
        if (memTypeClaimed) {
            memTypeClaimed = false;
            quietly("release the ioreq_server memory type", () ->
                    dm.mapMemTypeToIoreqServer(domid, server, XenConst.HVMMEM_IOREQ_SERVER, 0));
        }
        if (bars != null) {
            BarClaims claims = bars;
            quietly("release the BAR claims", claims::releaseAll);
        }
        if (serverCreated) {
            serverCreated = false;
            quietly("destroy the ioreq server", () -> dm.destroyIoreqServer(domid, server));
        }
        if (channels != null) {
            XenEventChannels handle = channels;
            channels = null;
            quietly("close the event channels", handle::close);
        }
        if (ioreqPage != null) {
            ForeignMapping page = ioreqPage;
            ioreqPage = null;
            quietly("unmap the ioreq page", page::close);
        }
        if (tracker != null) {
            tracker.close();
        }
        if (msi != null) {
            msi.close();
        }
        pins.close();
        memory.close();
    }

    private void quietly(String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            log.warn("dom{}: detach could not {}: {}", domid, what, e.getMessage());
        }
    }
}
