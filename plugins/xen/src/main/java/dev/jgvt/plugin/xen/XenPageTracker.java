package dev.jgvt.plugin.xen;

import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.abi.XenConst;
import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenDeviceModelOps;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PageTracker;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Write tracking by p2m type: a tracked frame is switched to {@code HVMMEM_ioreq_server}
 * ({@code set_mem_type}, one frame), which makes Xen forward every guest write to it to this binding's
 * ioreq server (which claimed the type for writes at attach) instead of storing it. The event loop then
 * commits the bytes and reports them. Reference-counted per frame.
 */
final class XenPageTracker implements PageTracker {
    private final XenDeviceModelOps deviceModel;
    private final GuestMemory memory;
    private final int domid;
    private final ConcurrentHashMap<Long, Integer> references = new ConcurrentHashMap<>();
    private volatile boolean closed;

    XenPageTracker(XenDeviceModelOps deviceModel, GuestMemory memory, int domid) {
        this.deviceModel = deviceModel;
        this.memory = memory;
        this.domid = domid;
    }

    @Override
    public synchronized void track(long gfn) {
        checkOpen();
        Integer count = references.get(gfn);
        if (count == null) {
            if (!memory.isBacked(gfn)) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "gfn 0x" + Long.toHexString(gfn) + " of dom" + domid + " is not guest RAM");
            }
            setType(gfn, XenConst.HVMMEM_IOREQ_SERVER);
            references.put(gfn, 1);
        } else {
            references.put(gfn, count + 1);
        }
    }

    @Override
    public synchronized void untrack(long gfn) {
        checkOpen();
        Integer count = references.get(gfn);
        if (count == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "gfn 0x" + Long.toHexString(gfn) + " of dom" + domid + " is not tracked");
        }
        if (count == 1) {
            setType(gfn, XenConst.HVMMEM_RAM_RW);
            references.remove(gfn);
        } else {
            references.put(gfn, count - 1);
        }
    }

    @Override
    public boolean isTracked(long gfn) {
        return !closed && references.containsKey(gfn);
    }

    private void setType(long gfn, int type) {
        try {
            deviceModel.setMemType(domid, type, gfn, 1);
        } catch (XenCallException e) {
            ErrorCode code = e.errno() == Errno.EOPNOTSUPP ? ErrorCode.UNSUPPORTED : ErrorCode.IO_ERROR;
            throw new GvtException(code, "set_mem_type(" + (type == XenConst.HVMMEM_IOREQ_SERVER ? "ioreq_server" : "ram_rw")
                    + ", gfn 0x" + Long.toHexString(gfn) + ") for dom" + domid + ": " + e.getMessage(), e);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "page tracking of dom" + domid + " is detached");
        }
    }

    synchronized int trackedFrames() {
        return references.size();
    }

    /** Detach: forget everything (releasing the memory-type claim turns the frames back to ram_rw in Xen). */
    synchronized void close() {
        closed = true;
        references.clear();
    }
}
