package dev.jgvt.plugin.xen.emu;

import dev.jgvt.plugin.xen.abi.Ioreq;
import dev.jgvt.plugin.xen.abi.XenConst;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One emulated HVM domain: guest RAM with a per-frame p2m type, up to eight ioreq servers, the
 * domain-wide {@code ioreq_server} memory-type claim, and vCPUs that issue ioreqs exactly as Xen does
 * (slot must be NONE and {@code vp_eport} right; fill; READY; notify; wait for IORESP_READY; NONE).
 *
 * <p>RAM spans {@code [0, ramBytes)}. The 1 MiB of special frames below 4 GiB ({@link #SPECIAL_REGION_GFN},
 * where HVM guests keep their ioreq-server page pool at {@link #SPECIAL_PFN_BASE}) also holds
 * {@link #BOUNCE_PAGES} pages at {@link #BOUNCE_GFN}: the emulated guest CPU's own source buffer for string
 * instructions (a {@code rep movs} into a tracked page is forwarded with {@code data_is_ptr} pointing at
 * it, as Xen forwards one whose source is guest memory). Foreign maps of that region see only those pages.
 */
public final class EmulatedDomain {
    /** Pages after guest RAM that hold the source of emulated string writes. */
    public static final int BOUNCE_PAGES = 2;
    /** First gfn of the special 1 MiB region (one map-cache bucket). */
    public static final long SPECIAL_REGION_GFN = 0xFEF00L;
    /** Where the bounce pages sit. */
    public static final long BOUNCE_GFN = 0xFEFEEL;
    /** First gfn of the pool Xen takes ioreq pages from when a server asks for gfns. */
    public static final long SPECIAL_PFN_BASE = 0xFEFF0L;
    /** Pages in that pool ({@code HVM_PARAM_NR_IOREQ_SERVER_PAGES}). */
    public static final int SPECIAL_PAGES = 8;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final int domid;
    final long ramBytes;
    final EmulatedXen xen;
    final Arena arena = Arena.ofShared();
    final MemorySegment ram;
    /** Backing of the special region (256 frames from {@link #SPECIAL_REGION_GFN}). */
    final MemorySegment specialRegion;
    final byte[] p2m;
    final BitSet populated;
    final long maxGpfn;
    final EmulatedIoreqServer[] servers = new EmulatedIoreqServer[XenConst.MAX_NR_IOREQ_SERVERS];
    final ReentrantLock lock = new ReentrantLock();
    final Map<Long, MemorySegment> specialPages = new HashMap<>();
    final boolean[] specialUsed = new boolean[SPECIAL_PAGES];
    final Vcpu[] vcpus;
    int claimOwner = -1;
    private int cf8;
    private volatile String crashReason;
    private volatile Duration ioreqTimeout = Duration.ofSeconds(30);

    private final ReentrantLock msiLock = new ReentrantLock();
    private final Condition msiArrived = msiLock.newCondition();
    private long msiCount;
    private long lastMsiAddress;
    private int lastMsiData;

    EmulatedDomain(EmulatedXen xen, int domid, long ramBytes, int vcpuCount) {
        this.xen = xen;
        this.domid = domid;
        this.ramBytes = ramBytes;
        long total = ramBytes;
        this.ram = arena.allocate(total, XenConst.PAGE_SIZE);
        this.specialRegion = arena.allocate(1 << 20, XenConst.PAGE_SIZE);
        int frames = Math.toIntExact(total >>> XenConst.PAGE_SHIFT);
        this.p2m = new byte[frames];
        this.populated = new BitSet(frames);
        populated.set(0, frames);
        this.maxGpfn = frames - 1L;
        this.vcpus = new Vcpu[vcpuCount];
        for (int i = 0; i < vcpuCount; i++) {
            vcpus[i] = new Vcpu(i);
        }
    }

    public int domid() {
        return domid;
    }

    /** Guest RAM size. */
    public long ramBytes() {
        return ramBytes;
    }

    public int vcpuCount() {
        return vcpus.length;
    }

    /** The raw guest RAM (tests inspect it directly, as a debugger would). */
    public MemorySegment ram() {
        return ram.asSlice(0, ramBytes);
    }

    /** Removes frames from the physmap (ballooned out, an MMIO hole): foreign maps report them as failed. */
    public void unpopulate(long gfn, int count) {
        lock.lock();
        try {
            populated.clear(Math.toIntExact(gfn), Math.toIntExact(gfn + count));
        } finally {
            lock.unlock();
        }
    }

    /** The p2m type of a frame ({@code HVMMEM_*}). */
    public int memType(long gfn) {
        lock.lock();
        try {
            return gfn < 0 || gfn > maxGpfn ? -1 : p2m[(int) gfn];
        } finally {
            lock.unlock();
        }
    }

    /** How long a vCPU waits for the device model before the domain is crashed. */
    public void ioreqTimeout(Duration timeout) {
        this.ioreqTimeout = timeout;
    }

    /** Why the domain crashed, or null while it runs. */
    public String crashReason() {
        return crashReason;
    }

    void crash(String reason) {
        if (crashReason == null) {
            crashReason = reason;
        }
        throw new GvtException(ErrorCode.ILLEGAL_STATE, "domain " + domid + " crashed: " + crashReason);
    }

    private void checkRunning() {
        String reason = crashReason;
        if (reason != null) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "domain " + domid + " crashed: " + reason);
        }
    }

    // ---------------------------------------------------------------- inspection (tests, diagnostics)

    /** Ids of the ioreq servers that exist. */
    public java.util.List<Integer> serverIds() {
        lock.lock();
        try {
            java.util.List<Integer> ids = new java.util.ArrayList<>();
            for (EmulatedIoreqServer server : servers) {
                if (server != null) {
                    ids.add(server.id);
                }
            }
            return ids;
        } finally {
            lock.unlock();
        }
    }

    public boolean serverEnabled(int id) {
        lock.lock();
        try {
            return servers[id] != null && servers[id].enabled;
        } finally {
            lock.unlock();
        }
    }

    /** The inclusive ranges of {@code type} ({@code XenConst.IO_RANGE_*}) server {@code id} claims, as [start, end] pairs. */
    public java.util.List<long[]> ranges(int id, int type) {
        lock.lock();
        try {
            java.util.List<long[]> list = new java.util.ArrayList<>();
            if (servers[id] != null) {
                servers[id].ranges[type].forEach((start, end) -> list.add(new long[] {start, end}));
            }
            return list;
        } finally {
            lock.unlock();
        }
    }

    /** The server holding the ioreq_server memory-type claim, or -1. */
    public int memTypeClaimOwner() {
        lock.lock();
        try {
            return claimOwner;
        } finally {
            lock.unlock();
        }
    }

    /** The ioreq page of server {@code id} (Xen's copy; tests read slots from it). */
    public MemorySegment ioreqPage(int id) {
        lock.lock();
        try {
            return servers[id] == null ? null : servers[id].ioreqPage;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- MSI

    void deliverMsi(long address, int data) {
        msiLock.lock();
        try {
            msiCount++;
            lastMsiAddress = address;
            lastMsiData = data;
            msiArrived.signalAll();
        } finally {
            msiLock.unlock();
        }
    }

    public long msiCount() {
        msiLock.lock();
        try {
            return msiCount;
        } finally {
            msiLock.unlock();
        }
    }

    public long lastMsiAddress() {
        msiLock.lock();
        try {
            return lastMsiAddress;
        } finally {
            msiLock.unlock();
        }
    }

    public int lastMsiData() {
        msiLock.lock();
        try {
            return lastMsiData;
        } finally {
            msiLock.unlock();
        }
    }

    public long awaitMsi(long seen, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        msiLock.lock();
        try {
            while (msiCount <= seen) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                msiArrived.awaitNanos(left);
            }
            return msiCount;
        } finally {
            msiLock.unlock();
        }
    }

    // ---------------------------------------------------------------- guest side: routing

    /** The enabled server that claims {@code [first, last]} of range type {@code type}, newest first. */
    private EmulatedIoreqServer select(int type, long first, long last) {
        for (int id = servers.length - 1; id >= 0; id--) {
            EmulatedIoreqServer server = servers[id];
            if (server != null && server.enabled && server.covers(type, first, last)) {
                return server;
            }
        }
        return null;
    }

    private static long allOnes(int size) {
        return size >= 8 ? -1L : (1L << (size * 8)) - 1;
    }

    /** A guest MMIO access to {@code gpa} outside RAM. Unclaimed: reads all ones, writes vanish. */
    public long mmio(int vcpu, long gpa, int size, boolean read, long value) {
        checkRunning();
        EmulatedIoreqServer server;
        lock.lock();
        try {
            server = select(XenConst.IO_RANGE_MEMORY, gpa, gpa + size - 1);
        } finally {
            lock.unlock();
        }
        if (server == null) {
            return read ? allOnes(size) : 0;
        }
        long data = vcpus[vcpu].issue(server, Ioreq.TYPE_COPY, gpa, read ? 0 : value, 1, size,
                read ? Ioreq.DIR_READ : Ioreq.DIR_WRITE, false, false);
        return read ? data & allOnes(size) : 0;
    }

    /**
     * A port access. 0xCF8 latches the configuration address; 0xCFC-0xCFF with the enable bit set and a
     * claimed SBDF become a PCI_CONFIG ioreq ({@code addr = SBDF << 32 | register}), exactly Xen's rewrite.
     */
    public long pio(int vcpu, int port, int size, boolean read, long value) {
        checkRunning();
        if (port == 0xCF8 && size == 4) {
            lock.lock();
            try {
                if (read) {
                    return cf8 & 0xFFFF_FFFFL;
                }
                cf8 = (int) value;
                return 0;
            } finally {
                lock.unlock();
            }
        }
        EmulatedIoreqServer server = null;
        long addr = port;
        int type = Ioreq.TYPE_PIO;
        lock.lock();
        try {
            if (port >= 0xCFC && port <= 0xCFF && (cf8 & 0x8000_0000) != 0) {
                int sbdf = (cf8 >>> 8) & 0xFFFF;
                int register = (cf8 & 0xFC) | (port & 3);
                server = select(XenConst.IO_RANGE_PCI, sbdf, sbdf);
                if (server != null) {
                    type = Ioreq.TYPE_PCI_CONFIG;
                    addr = Ioreq.pciConfigAddr(sbdf, register);
                }
            }
            if (server == null) {
                server = select(XenConst.IO_RANGE_PORT, port, port + size - 1);
            }
        } finally {
            lock.unlock();
        }
        if (server == null) {
            return read ? allOnes(size) : 0;
        }
        long data = vcpus[vcpu].issue(server, type, addr, read ? 0 : value, 1, size,
                read ? Ioreq.DIR_READ : Ioreq.DIR_WRITE, false, false);
        return read ? data & allOnes(size) : 0;
    }

    /** An extended-config (MMCONFIG) access, which Xen also turns into a PCI_CONFIG ioreq. */
    public long mmcfg(int vcpu, int sbdf, int register, int size, boolean read, long value) {
        checkRunning();
        EmulatedIoreqServer server;
        lock.lock();
        try {
            server = select(XenConst.IO_RANGE_PCI, sbdf, sbdf);
        } finally {
            lock.unlock();
        }
        if (server == null) {
            return read ? allOnes(size) : 0;
        }
        long data = vcpus[vcpu].issue(server, Ioreq.TYPE_PCI_CONFIG, Ioreq.pciConfigAddr(sbdf, register),
                read ? 0 : value, 1, size, read ? Ioreq.DIR_READ : Ioreq.DIR_WRITE, false, false);
        return read ? data & allOnes(size) : 0;
    }

    /** A CPU read of guest RAM: never trapped. */
    public void ramRead(long gpa, MemorySegment dst) {
        checkRam(gpa, dst.byteSize());
        MemorySegment.copy(ram, gpa, dst, 0, dst.byteSize());
    }

    /**
     * A CPU write of guest RAM. Frames typed {@code ioreq_server} while a server holds the claim are not
     * written: the write is forwarded to the claiming server as COPY/WRITE (Xen does not store the value;
     * the device model must). A 1/2/4/8-byte aligned store is one plain ioreq; anything longer within a frame
     * is a {@code rep movsb} from the bounce pages ({@code data_is_ptr}, {@code count} = length).
     */
    public void ramWrite(int vcpu, long gpa, MemorySegment src) {
        checkRunning();
        checkRam(gpa, src.byteSize());
        long done = 0;
        long length = src.byteSize();
        while (done < length) {
            long at = gpa + done;
            long frameEnd = (at | (XenConst.PAGE_SIZE - 1)) + 1;
            int chunk = (int) Math.min(length - done, frameEnd - at);
            EmulatedIoreqServer claimant = null;
            lock.lock();
            try {
                if (p2m[(int) (at >>> XenConst.PAGE_SHIFT)] == XenConst.HVMMEM_IOREQ_SERVER && claimOwner >= 0) {
                    claimant = servers[claimOwner];
                }
            } finally {
                lock.unlock();
            }
            if (claimant == null || !claimant.enabled) {
                MemorySegment.copy(src, done, ram, at, chunk);
            } else if ((chunk == 1 || chunk == 2 || chunk == 4 || chunk == 8) && at % chunk == 0) {
                long value = 0;
                for (int i = chunk - 1; i >= 0; i--) {
                    value = (value << 8) | Byte.toUnsignedLong(src.get(ValueLayout.JAVA_BYTE, done + i));
                }
                vcpus[vcpu].issue(claimant, Ioreq.TYPE_COPY, at, value, 1, chunk, Ioreq.DIR_WRITE, false, false);
            } else {
                Vcpu cpu = vcpus[vcpu];
                cpu.lock.lock();
                try {
                    long bounce = (BOUNCE_GFN - SPECIAL_REGION_GFN) << XenConst.PAGE_SHIFT;
                    MemorySegment.copy(src, done, specialRegion, bounce, chunk);
                    cpu.issue(claimant, Ioreq.TYPE_COPY, at, BOUNCE_GFN << XenConst.PAGE_SHIFT, chunk, 1, Ioreq.DIR_WRITE,
                            true, false);
                } finally {
                    cpu.lock.unlock();
                }
            }
            done += chunk;
        }
    }

    /** Broadcasts {@code IOREQ_TYPE_INVALIDATE} to every enabled server (after a physmap change). */
    public void broadcastInvalidate(int vcpu) {
        checkRunning();
        for (int id = servers.length - 1; id >= 0; id--) {
            EmulatedIoreqServer server;
            lock.lock();
            try {
                server = servers[id];
            } finally {
                lock.unlock();
            }
            if (server != null && server.enabled) {
                vcpus[vcpu].issue(server, Ioreq.TYPE_INVALIDATE, 0, 0, 1, 0, Ioreq.DIR_WRITE, false, false);
            }
        }
    }

    private void checkRam(long gpa, long length) {
        if (gpa < 0 || length < 0 || gpa + length > ramBytes) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "guest RAM access [0x" + Long.toHexString(gpa) + ", +"
                    + length + ") outside [0, 0x" + Long.toHexString(ramBytes) + ") of domain " + domid);
        }
    }

    long readLong(long gpa) {
        return ram.get(U64, gpa);
    }

    // ---------------------------------------------------------------- vCPUs

    /** One vCPU: its ioreq slot in every server's page and the wait for the device model. */
    final class Vcpu {
        final int index;
        final Semaphore wake = new Semaphore(0);
        final ReentrantLock lock = new ReentrantLock();
        /** The state this vCPU last read from its slot while waiting (tests synchronise on it). */
        volatile int lastSeen = -1;

        Vcpu(int index) {
            this.index = index;
        }

        /** Xen's half of the handshake for one request; returns {@code data} as the device model left it. */
        long issue(EmulatedIoreqServer server, int type, long addr, long data, int count, int size, int dir,
                boolean dataIsPtr, boolean df) {
            lock.lock();
            try {
                MemorySegment page = server.ioreqPage;
                int state = Ioreq.stateAcquire(page, index);
                if (state != Ioreq.STATE_NONE) {
                    crash("bad IO state " + Ioreq.stateName(state) + " in vCPU " + index + "'s slot of server " + server.id);
                }
                EventChannelHub.Endpoint port = server.vcpuPorts[index];
                if (Ioreq.vpEport(page, index) != port.port) {
                    crash("bad event channel " + Ioreq.vpEport(page, index) + " (expected " + port.port + ")");
                }
                wake.drainPermits();
                Ioreq.addr(page, index, addr);
                Ioreq.data(page, index, data);
                Ioreq.count(page, index, count);
                Ioreq.size(page, index, size);
                Ioreq.type(page, index, type);
                Ioreq.flagsRelease(page, index, Ioreq.flags(Ioreq.STATE_NONE, dataIsPtr, dir, df));
                Ioreq.stateRelease(page, index, Ioreq.STATE_READY);
                xen.hub.send(port);
                return await(server, page);
            } finally {
                lock.unlock();
            }
        }

        private long await(EmulatedIoreqServer server, MemorySegment page) {
            int previous = Ioreq.STATE_READY;
            long deadline = System.nanoTime() + ioreqTimeout.toNanos();
            while (true) {
                int state = Ioreq.stateAcquire(page, index);
                lastSeen = state;
                if (state < previous && state != Ioreq.STATE_NONE) {
                    crash("Weird HVM ioreq state transition " + Ioreq.stateName(previous) + " -> " + Ioreq.stateName(state));
                }
                switch (state) {
                    case Ioreq.STATE_IORESP_READY -> {
                        long data = Ioreq.data(page, index);
                        Ioreq.stateRelease(page, index, Ioreq.STATE_NONE);
                        return data;
                    }
                    case Ioreq.STATE_READY, Ioreq.STATE_INPROCESS -> previous = state;
                    case Ioreq.STATE_NONE -> {
                        return -1L; // the emulator is dying: the request completes with all ones
                    }
                    default -> crash("unknown ioreq state " + state + " in vCPU " + index + "'s slot of server " + server.id);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    crash("device model did not answer vCPU " + index + " within " + ioreqTimeout);
                }
                try {
                    wake.tryAcquire(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    crash("vCPU " + index + " interrupted while waiting for the device model");
                }
            }
        }
    }
}
