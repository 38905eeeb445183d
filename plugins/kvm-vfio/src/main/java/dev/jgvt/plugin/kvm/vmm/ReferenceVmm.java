package dev.jgvt.plugin.kvm.vmm;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.EventFd;
import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.os.SharedMemory;
import dev.jgvt.plugin.kvm.vfiouser.Capabilities;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.PageTracking;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackedWrite;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InProcessGuest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reference VMM: a vfio-user client that owns guest RAM as a memfd, maps it into the server with DMA_MAP
 * (the fd travels by SCM_RIGHTS), binds an eventfd for MSI with SET_IRQS, implements the
 * {@code x-jgvt-page-tracking} extension (frames the server protects are checked on every guest RAM write;
 * a write to one is committed first and then forwarded as TRACKED_WRITE), and offers the guest side of the
 * device as the SPI's {@link InProcessGuest} shape: config and BAR accesses become REGION_READ/WRITE, RAM is
 * the memfd mapping, MSIs are read from the eventfd. There are no vCPUs: the guest is code calling these
 * methods (guest-sim's driver, a test).
 *
 * <p>Threading: accesses from one guest thread at a time; {@link #msiCount} and {@link #awaitMsi} from any.
 */
public final class ReferenceVmm implements InProcessGuest, AutoCloseable {
    /** How the VMM maps RAM and what it offers. */
    public record Options(long ramBytes, boolean pageTracking, boolean withFd, long regionBytes, Duration timeout) {
        public Options {
            requireNonNull(timeout, "timeout is null");
            if (ramBytes <= 0 || (ramBytes & 0xFFF) != 0) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "guest RAM must be a positive multiple of 4096 bytes, not " + ramBytes);
            }
            if (regionBytes <= 0 || (regionBytes & 0xFFF) != 0 || ramBytes % regionBytes != 0) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "DMA regions of " + regionBytes + " bytes do not tile " + ramBytes);
            }
        }

        /** One fd-backed region for all RAM, page tracking offered. */
        public static Options of(long ramBytes) {
            return new Options(ramBytes, true, true, ramBytes, Duration.ofSeconds(10));
        }

        public Options withPageTracking(boolean on) {
            return new Options(ramBytes, on, withFd, regionBytes, timeout);
        }

        public Options withFd(boolean on) {
            return new Options(ramBytes, pageTracking, on, regionBytes, timeout);
        }

        public Options withRegionBytes(long bytes) {
            return new Options(ramBytes, pageTracking, withFd, bytes, timeout);
        }
    }

    private static final int CONFIG = 7;
    private static final int IRQ_MSI = 1;
    private static final int COMMAND = 0x04;
    private static final int MEMORY_ENABLE = 0x2;

    private final Options options;
    private final SharedMemory ram;
    private final SharedMemory.Mapping mapping;
    private final MemorySegment memory;
    private final VfioUserClient client;
    private final EventFd msi;
    private final Thread msiThread;
    private final Set<Long> protectedFrames = ConcurrentHashMap.newKeySet();
    private final Object msiLock = new Object();
    private final ReentrantLock stall = new ReentrantLock();
    private final boolean tracking;
    private final Capabilities server;
    private final DeviceInfo device;
    private final Path socket;
    private long msis;
    private volatile boolean closing;
    private int commandRegister;
    private long trackedWrites;

    private ReferenceVmm(Path socket, Options options) {
        this.options = options;
        this.socket = socket;
        this.ram = SharedMemory.create("jgvt-guest-ram", options.ramBytes());
        SharedMemory.Mapping m = null;
        VfioUserClient c = null;
        EventFd e = null;
        try {
            m = ram.map(Libc.PROT_READ | Libc.PROT_WRITE);
            this.mapping = m;
            this.memory = m.segment();
            c = VfioUserClient.connect(socket, 8, this::serverCommand, options.timeout());
            this.client = c;
            Map<String, Object> extra = new LinkedHashMap<>();
            if (options.pageTracking()) {
                extra.put(PageTracking.CAPABILITY, new PageTracking.Offer(PageTracking.VERSION, PageTracking.MAX_FRAMES).toJson());
            }
            Capabilities ours = new Capabilities(8, 1L << 20, Capabilities.DEFAULT_MAX_DMA_MAPS, Capabilities.DEFAULT_PGSIZES,
                    Optional.empty(), Optional.empty(), false, extra);
            Payload.Version reply;
            try {
                reply = c.version(2, ours);
            } catch (GvtException busy) {
                if (VfioUserClient.errno(busy) == Errno.EBUSY) {
                    throw new GvtException(ErrorCode.BUSY, "the server at " + socket + " is serving another VMM", busy);
                }
                throw busy;
            }
            this.server = reply.capabilities();
            this.tracking = PageTracking.offer(server).isPresent();
            this.device = (DeviceInfo) c.request(Command.DEVICE_GET_INFO, new DeviceInfo(DeviceInfo.LENGTH, 0, 0, 0));
            // a VM powers on with its devices reset: whatever an earlier VM left in the device is gone
            c.request(Command.DEVICE_RESET, Payload.Empty.INSTANCE);
            for (long at = 0; at < options.ramBytes(); at += options.regionBytes()) {
                map(at, options.regionBytes(), DmaMap.FLAG_READ | DmaMap.FLAG_WRITE);
            }
            e = EventFd.create(0, Libc.EFD_CLOEXEC);
            this.msi = e;
            c.request(Command.DEVICE_SET_IRQS, new IrqSet(IrqSet.LENGTH, IrqSet.DATA_EVENTFD | IrqSet.ACTION_TRIGGER, IRQ_MSI, 0, 1,
                    new byte[0]), e.fd());
            this.commandRegister = (int) configRead(COMMAND, 2);
            this.msiThread = Thread.ofPlatform().name("vmm msi").daemon().start(this::msiLoop);
        } catch (RuntimeException ex) {
            if (c != null) {
                c.close();
            }
            if (e != null) {
                e.close();
            }
            if (m != null) {
                m.close();
            }
            ram.close();
            throw ex;
        }
    }

    /** Connects to the vfio-user server at {@code socket} and brings the guest's side up. */
    public static ReferenceVmm connect(Path socket, Options options) {
        return new ReferenceVmm(requireNonNull(socket, "socket is null"), requireNonNull(options, "options is null"));
    }

    /**
     * The entry point for callers that load this class from the plugin jar as a file ({@code gvt vmm}): connects
     * with settings {@code ram} (bytes, default 128 MiB) and {@code pageTracking} ({@code true}/{@code false},
     * default true). The result is also {@link AutoCloseable}.
     */
    public static InProcessGuest open(Path socket, Map<String, String> settings) {
        requireNonNull(settings, "settings is null");
        long ram;
        try {
            ram = Long.parseLong(settings.getOrDefault("ram", Long.toString(128L << 20)));
        } catch (NumberFormatException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "ram setting '" + settings.get("ram") + "' is not a number");
        }
        boolean tracking = !"false".equals(settings.getOrDefault("pageTracking", "true"));
        return connect(socket, Options.of(ram).withPageTracking(tracking));
    }

    @Override
    public String toString() {
        return "vfio-user client: page tracking " + (tracking ? "negotiated" : "off") + ", " + device.numRegions() + " regions, "
                + "server max_data_xfer_size " + server.maxDataXferSize();
    }

    /** Whether the server accepted the page-tracking extension. */
    public boolean pageTracking() {
        return tracking;
    }

    /** The server's VERSION capabilities. */
    public Capabilities serverCapabilities() {
        return server;
    }

    /** The server's DEVICE_GET_INFO. */
    public DeviceInfo deviceInfo() {
        return device;
    }

    /** The connection (for requests this class does not wrap). */
    public VfioUserClient client() {
        return client;
    }

    /** Frames the server has write-protected now. */
    public int protectedFrames() {
        return protectedFrames.size();
    }

    /** Guest writes forwarded as TRACKED_WRITE so far. */
    public synchronized long trackedWrites() {
        return trackedWrites;
    }

    private void map(long gpa, long size, int flags) {
        DmaMap request = new DmaMap(DmaMap.LENGTH, flags, options.withFd() ? gpa : 0, gpa, size);
        if (options.withFd()) {
            client.request(Command.DMA_MAP, request, ram.fd());
        } else {
            client.request(Command.DMA_MAP, request);
        }
    }

    /**
     * The VMM removes guest RAM {@code [gpa, gpa + length)}: DMA_UNMAP of every region inside it (the range
     * must be made of whole regions). The server's error reply (EBUSY when the device kept a pin) is thrown.
     */
    public void unmapRam(long gpa, long length) {
        checkRegions(gpa, length);
        for (long at = gpa; at < gpa + length; at += options.regionBytes()) {
            client.request(Command.DMA_UNMAP, new DmaUnmap(DmaUnmap.LENGTH, 0, at, options.regionBytes()));
            for (long f = at >>> 12; f < (at + options.regionBytes()) >>> 12; f++) {
                protectedFrames.remove(f);
            }
        }
    }

    /** Re-maps {@code [gpa, gpa + length)} (whole regions) read-only for the device. */
    public void mapReadOnly(long gpa, long length) {
        checkRegions(gpa, length);
        for (long at = gpa; at < gpa + length; at += options.regionBytes()) {
            client.request(Command.DMA_UNMAP, new DmaUnmap(DmaUnmap.LENGTH, 0, at, options.regionBytes()));
            map(at, options.regionBytes(), DmaMap.FLAG_READ);
        }
    }

    private void checkRegions(long gpa, long length) {
        long r = options.regionBytes();
        if (gpa < 0 || length <= 0 || gpa % r != 0 || length % r != 0 || gpa + length > options.ramBytes()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "range 0x" + Long.toHexString(gpa) + "+0x" + Long.toHexString(length)
                    + " is not made of whole 0x" + Long.toHexString(r) + "-byte DMA regions of guest RAM");
        }
    }

    // ------------------------------------------------------------------ commands from the server

    private Payload serverCommand(int command, byte[] payload) {
        if (command == PageTracking.TRACK_SET && tracking) {
            TrackSet set = PageTracking.decodeTrackSet(payload, false, "TRACK_SET");
            long frames = options.ramBytes() >>> 12;
            for (long gfn : set.gfns()) {
                if (gfn < 0 || gfn >= frames) {
                    throw new IommuException(Errno.ENOENT, ErrorCode.NOT_MAPPED, "gfn 0x" + Long.toHexString(gfn) + " is not guest RAM");
                }
            }
            for (long gfn : set.gfns()) {
                if (set.flags() == TrackSet.FLAG_PROTECT) {
                    protectedFrames.add(gfn);
                } else {
                    protectedFrames.remove(gfn);
                }
            }
            return set.reply();
        }
        if (command == Command.DMA_READ.number() || command == Command.DMA_WRITE.number()) {
            ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
            if (payload.length < DmaAccess.LENGTH) {
                throw new IommuException(Errno.EINVAL, ErrorCode.PROTOCOL_ERROR, "short DMA command");
            }
            long address = b.getLong();
            long count = b.getLong();
            boolean write = command == Command.DMA_WRITE.number();
            if (count < 0 || count > (1 << 20) || address < 0 || address > options.ramBytes() - count
                    || payload.length != DmaAccess.LENGTH + (write ? count : 0)) {
                throw new IommuException(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, "DMA of " + count + " bytes at 0x" + Long.toHexString(address));
            }
            if (write) {
                MemorySegment.copy(MemorySegment.ofArray(payload), DmaAccess.LENGTH, memory, address, count);
                return new DmaAccess(address, count);
            }
            byte[] data = new byte[(int) count];
            MemorySegment.copy(memory, address, MemorySegment.ofArray(data), 0, count);
            return new DmaAccess(address, count, data);
        }
        throw new IommuException(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, "command " + command + " is not a server command");
    }

    // ------------------------------------------------------------------ the guest's side

    /**
     * A request on the guest's behalf. Once the server has closed the connection every such request fails
     * {@link ErrorCode#ILLEGAL_STATE} with one message saying so: the guest has lost its device, it did
     * not see the device misbehave.
     */
    private Payload deviceRequest(Command command, Payload payload) {
        checkConnected();
        try {
            return client.request(command, payload);
        } catch (GvtException e) {
            checkConnected();
            throw e;
        }
    }

    private void checkConnected() {
        if (!closing && client.disconnected()) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "the connection to the server at " + socket
                    + " is gone: the server closed it");
        }
    }

    private long regionRead(int region, long offset, int size) {
        RegionAccess r = (RegionAccess) deviceRequest(Command.REGION_READ, new RegionAccess(offset, region, size));
        byte[] d = r.data();
        if (d.length != size) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR, "REGION_READ of " + size + " bytes returned " + d.length);
        }
        long v = 0;
        for (int i = 0; i < size; i++) {
            v |= (d[i] & 0xFFL) << (8 * i);
        }
        return v;
    }

    private void regionWrite(int region, long offset, int size, long value) {
        byte[] d = new byte[size];
        for (int i = 0; i < size; i++) {
            d[i] = (byte) (value >>> (8 * i));
        }
        deviceRequest(Command.REGION_WRITE, new RegionAccess(offset, region, size, d));
    }

    private static void checkSize(int size, boolean config) {
        if (size != 1 && size != 2 && size != 4 && (config || size != 8)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "access size " + size);
        }
    }

    @Override
    public long configRead(int offset, int size) {
        checkSize(size, true);
        return regionRead(CONFIG, offset, size);
    }

    @Override
    public void configWrite(int offset, int size, long value) {
        checkSize(size, true);
        regionWrite(CONFIG, offset, size, value);
        if (offset < COMMAND + 2 && offset + size > COMMAND) {
            commandRegister = (int) regionRead(CONFIG, COMMAND, 2);
        }
    }

    private boolean memoryEnabled() {
        return (commandRegister & MEMORY_ENABLE) != 0;
    }

    @Override
    public long mmioRead(int region, long offset, int size) {
        checkSize(size, false);
        if (!memoryEnabled()) {
            return size == 8 ? -1L : (1L << (8 * size)) - 1;
        }
        return regionRead(region, offset, size);
    }

    @Override
    public void mmioWrite(int region, long offset, int size, long value) {
        checkSize(size, false);
        if (memoryEnabled()) {
            regionWrite(region, offset, size, value);
        }
    }

    @Override
    public long ramSize() {
        return options.ramBytes();
    }

    private void checkRam(long gpa, long length) {
        if (gpa < 0 || length < 0 || gpa > options.ramBytes() - length) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "guest RAM access of " + length + " bytes at 0x" + Long.toHexString(gpa)
                    + " outside 0x" + Long.toHexString(options.ramBytes()) + " bytes of RAM");
        }
    }

    @Override
    public void ramRead(long gpa, MemorySegment dst) {
        checkRam(gpa, dst.byteSize());
        MemorySegment.copy(memory, gpa, dst, 0, dst.byteSize());
    }

    /** Commits the write, then forwards the part in each protected frame as one TRACKED_WRITE. */
    @Override
    public void ramWrite(long gpa, MemorySegment src) {
        long length = src.byteSize();
        checkRam(gpa, length);
        MemorySegment.copy(src, 0, memory, gpa, length);
        if (protectedFrames.isEmpty()) {
            return;
        }
        long done = 0;
        while (done < length) {
            long at = gpa + done;
            long n = Math.min(length - done, 4096 - (at & 0xFFF));
            if (protectedFrames.contains(at >>> 12)) {
                byte[] bytes = src.asSlice(done, n).toArray(ValueLayout.JAVA_BYTE);
                client.requestRaw(PageTracking.TRACKED_WRITE, new TrackedWrite(at, 0, bytes), false);
                synchronized (this) {
                    trackedWrites++;
                }
            }
            done += n;
        }
    }

    /** A little-endian 64-bit guest RAM read. */
    public long ramReadLong(long gpa) {
        MemorySegment buf = MemorySegment.ofArray(new long[1]);
        ramRead(gpa, buf);
        return buf.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
    }

    /** A little-endian 64-bit guest RAM write (forwarded if the frame is protected). */
    public void ramWriteLong(long gpa, long value) {
        MemorySegment buf = MemorySegment.ofArray(new long[1]);
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, value);
        ramWrite(gpa, buf);
    }

    private void msiLoop() {
        while (!closing) {
            long n;
            try {
                n = msi.read();
            } catch (GvtException e) {
                return;
            }
            if (closing) {
                return;
            }
            stall.lock();
            stall.unlock();
            synchronized (msiLock) {
                msis += n;
                msiLock.notifyAll();
            }
        }
    }

    /** Stops consuming MSIs until the returned handle is closed (the eventfd keeps counting). */
    public AutoCloseable stallInterrupts() {
        stall.lock();
        return stall::unlock;
    }

    @Override
    public long msiCount() {
        synchronized (msiLock) {
            return msis;
        }
    }

    @Override
    public long awaitMsi(long seen, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        checkConnected();
        synchronized (msiLock) {
            while (msis <= seen) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                msiLock.wait(Math.max(1, left / 1_000_000), 0);
            }
            return msis;
        }
    }

    /** Disconnects (the server drops our regions and eventfds) and frees guest RAM. Idempotent. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        client.close();
        msi.signal(1);
        try {
            msiThread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        msi.close();
        mapping.close();
        ram.close();
    }
}
