package dev.jgvt.plugin.xen;

import dev.jgvt.plugin.xen.abi.Ioreq;
import dev.jgvt.plugin.xen.lib.XenEventChannels;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.PageTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ioreq event loop of one binding, run on one platform thread (the blocking wait in the event-channel
 * driver must not pin a virtual thread's carrier). For each event: unmask the port, then service its
 * vCPU's slot: acquire-read the state; if READY set INPROCESS, dispatch, store {@code data} for reads,
 * release-write IORESP_READY (the flag bits 4-7 are kept), and notify the same port.
 *
 * <p>Dispatch: PCI_CONFIG for this vGPU's SBDF goes to config space (and may move BAR claims or change the
 * MSI snapshot); COPY inside a claimed BAR goes to that region; any other COPY write is a write to a frame
 * of type {@code ioreq_server}: its bytes are committed to guest RAM here (Xen does not store them) and only
 * then, for frames the core tracks, reported to {@link DeviceModel#trackedWrite} (SPI contract 1);
 * INVALIDATE flushes the map cache; TIMEOFFSET is ignored; PIO (no ports are claimed) reads all ones.
 * Nothing a guest sends can throw out of the loop: a failed access reads all ones and is logged.
 */
final class IoreqLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(IoreqLoop.class);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Xen keeps a string request's buffer within two guest pages. */
    private static final int MAX_REP_BYTES = 2 * 4096;
    private static final int LOUD_ERRORS = 10;

    private final int domid;
    private final int sbdf;
    private final MemorySegment page;
    private final XenEventChannels channels;
    private final int[] localPorts;
    private final int[] vcpuOfPort;
    private final DeviceModel device;
    private final MapCache memory;
    private final PageTracker tracker;
    private final BarClaims bars;
    private final MsiGate msi;
    private MemorySegment scratch;
    private MemorySegment[] bySize;
    private volatile boolean running = true;
    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    IoreqLoop(int domid, int sbdf, MemorySegment page, XenEventChannels channels, int[] localPortOfVcpu,
            DeviceModel device, MapCache memory, PageTracker tracker, BarClaims bars, MsiGate msi) {
        this.domid = domid;
        this.sbdf = sbdf;
        this.page = page;
        this.channels = channels;
        this.device = device;
        this.memory = memory;
        this.tracker = tracker;
        this.bars = bars;
        this.msi = msi;
        int n = localPortOfVcpu.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(localPortOfVcpu[a], localPortOfVcpu[b]));
        this.localPorts = new int[n];
        this.vcpuOfPort = new int[n];
        for (int i = 0; i < n; i++) {
            localPorts[i] = localPortOfVcpu[order[i]];
            vcpuOfPort[i] = order[i];
        }
    }

    void stop() {
        running = false;
    }

    long handled() {
        return handled.get();
    }

    long failures() {
        return failures.get();
    }

    @Override
    public void run() {
        Arena arena = Arena.ofConfined(); // owned by this thread
        scratch = arena.allocate(MAX_REP_BYTES, 8);
        bySize = new MemorySegment[9];
        for (int size : new int[] {1, 2, 4, 8}) {
            bySize[size] = scratch.asSlice(0, size);
        }
        try {
            while (running) {
                int port = channels.pending(100);
                if (port < 0) {
                    continue;
                }
                channels.unmask(port);
                int at = Arrays.binarySearch(localPorts, port);
                if (at < 0) {
                    continue;
                }
                service(vcpuOfPort[at], port);
            }
        } catch (RuntimeException e) {
            log.error("dom{}: ioreq loop stopped: {}", domid, e.toString());
        } finally {
            arena.close();
        }
    }

    private void service(int vcpu, int port) {
        int flags = Ioreq.flagsAcquire(page, vcpu);
        if ((flags & Ioreq.STATE_MASK) != Ioreq.STATE_READY) {
            return;
        }
        Ioreq.stateRelease(page, vcpu, Ioreq.STATE_INPROCESS);
        long addr = Ioreq.addr(page, vcpu);
        long data = Ioreq.data(page, vcpu);
        int count = Ioreq.count(page, vcpu);
        int size = Ioreq.size(page, vcpu);
        int type = Ioreq.type(page, vcpu);
        long result;
        try {
            result = dispatch(type, addr, data, count, size, flags);
        } catch (RuntimeException e) {
            result = -1L;
            long n = failures.incrementAndGet();
            if (n <= LOUD_ERRORS) {
                log.warn("dom{}: ioreq type {} addr 0x{} size {} {} failed: {}", domid, type, Long.toHexString(addr), size,
                        Ioreq.isRead(flags) ? "read" : "write", e.getMessage());
            } else {
                log.debug("dom{}: ioreq failed: {}", domid, e.getMessage());
            }
        }
        if (Ioreq.isRead(flags) && !Ioreq.dataIsPtr(flags)) {
            Ioreq.data(page, vcpu, size >= 8 || size <= 0 ? result : result & ((1L << (size * 8)) - 1));
        }
        Ioreq.stateRelease(page, vcpu, Ioreq.STATE_IORESP_READY);
        channels.notify(port);
        handled.incrementAndGet();
    }

    private static boolean validSize(int size) {
        return size == 1 || size == 2 || size == 4 || size == 8;
    }

    private long dispatch(int type, long addr, long data, int count, int size, int flags) {
        return switch (type) {
            case Ioreq.TYPE_PCI_CONFIG -> config(addr, data, size, flags);
            case Ioreq.TYPE_COPY -> copy(addr, data, count, size, flags);
            case Ioreq.TYPE_INVALIDATE -> {
                memory.flush();
                yield 0;
            }
            case Ioreq.TYPE_TIMEOFFSET -> 0;
            case Ioreq.TYPE_PIO -> -1L;
            default -> throw new IllegalArgumentException("unknown ioreq type " + type);
        };
    }

    private long config(long addr, long data, int size, int flags) {
        int target = (int) (addr >>> 32);
        int register = (int) addr;
        if (target != sbdf || Ioreq.dataIsPtr(flags) || (size != 1 && size != 2 && size != 4)) {
            throw new IllegalArgumentException("config access to SBDF 0x" + Integer.toHexString(target) + " register 0x"
                    + Integer.toHexString(register) + " size " + size + (Ioreq.dataIsPtr(flags) ? " by pointer" : ""));
        }
        if (Ioreq.isRead(flags)) {
            return device.read(DeviceLayout.CONFIG, register, size);
        }
        device.write(DeviceLayout.CONFIG, register, size, data);
        if (BarClaims.touches(register, size)) {
            bars.update(device);
        }
        if (msi.touches(register, size)) {
            msi.refresh(device);
        }
        return 0;
    }

    private long copy(long addr, long data, int count, int size, int flags) {
        if (!validSize(size) || count < 1 || (!Ioreq.dataIsPtr(flags) && count != 1) || (long) count * size > MAX_REP_BYTES) {
            throw new IllegalArgumentException("COPY count " + count + " size " + size);
        }
        int bar = bars.bar(addr);
        if (bar != BarClaims.NONE) {
            return Ioreq.dataIsPtr(flags)
                    ? mmioString(bar, addr, data, count, size, flags)
                    : mmio(bar, addr - bars.base(bar), data, size, Ioreq.isRead(flags));
        }
        if (Ioreq.isRead(flags)) {
            throw new IllegalArgumentException("read of 0x" + Long.toHexString(addr) + " outside the claimed BARs");
        }
        trackedWrite(addr, data, count, size, flags);
        return 0;
    }

    private long mmio(int bar, long offset, long data, int size, boolean read) {
        if (read) {
            return device.read(bar, offset, size);
        }
        device.write(bar, offset, size, data);
        return 0;
    }

    /** {@code rep movs}/{@code rep stos}-style access between a BAR and guest RAM, item by item. */
    private long mmioString(int bar, long addr, long data, int count, int size, int flags) {
        long step = Ioreq.df(flags) ? -size : size;
        long base = bars.base(bar);
        MemorySegment item = bySize[size];
        for (int i = 0; i < count; i++) {
            long offset = addr + i * step - base;
            long gpa = data + i * step;
            if (Ioreq.isRead(flags)) {
                long value = device.read(bar, offset, size);
                scratch.set(U64, 0, value);
                memory.write(gpa, item);
            } else {
                scratch.set(U64, 0, 0L);
                memory.read(gpa, item);
                device.write(bar, offset, size, scratch.get(U64, 0));
            }
        }
        return 0;
    }

    /** A write to an {@code ioreq_server} frame: commit first, then report the tracked frames it touched. */
    private void trackedWrite(long addr, long data, int count, int size, int flags) {
        MemorySegment bytes;
        long destination;
        if (Ioreq.dataIsPtr(flags)) {
            int total = count * size;
            long span = (long) (count - 1) * size;
            destination = Ioreq.df(flags) ? addr - span : addr;
            long source = Ioreq.df(flags) ? data - span : data;
            bytes = scratch.asSlice(0, total);
            memory.read(source, bytes);
        } else {
            destination = addr;
            scratch.set(U64, 0, data);
            bytes = bySize[size];
        }
        memory.write(destination, bytes);
        long end = destination + bytes.byteSize();
        for (long at = destination; at < end; ) {
            long frameEnd = (at | 0xFFF) + 1;
            long chunk = Math.min(end, frameEnd) - at;
            if (tracker.isTracked(at >>> 12)) {
                device.trackedWrite(at, chunk == bytes.byteSize() ? bytes : bytes.asSlice(at - destination, chunk));
            }
            at += chunk;
        }
    }
}
