package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.vfiouser.Capabilities;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.DmaRegions;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.PageTracking;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionCap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackedWrite;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TypeCap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.Version;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMulti;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMultiReply;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteRecord;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of a {@link VfioUserServer}: reads its messages in order on one thread (the thread that then
 * calls the {@link DeviceModel}), answers each command, and issues the server's own commands to the client
 * (DMA_READ/DMA_WRITE for regions mapped without an fd, TRACK_SET for page tracking) from any thread.
 *
 * <p>A malformed message whose boundaries are known (a bad payload, an unknown command, a bad index or
 * offset, wrong fds) gets an error reply and the connection goes on; a broken stream (bad header, size over
 * the limit, truncation, {@code MSG_CTRUNC}) or a VERSION violation ends the connection. Either way the
 * server keeps serving. Ending drops the client's DMA regions (through the unmap interlock), closes its
 * eventfds and forgets page tracking; device state stays.
 */
final class Connection {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    /** The protocol version this server speaks. */
    static final int MAJOR = 0;
    static final int MINOR = 2;
    /** fds accepted per message. */
    static final int MAX_MSG_FDS = 8;
    /** The largest data count this server accepts in REGION_READ/WRITE. */
    static final long MAX_DATA_XFER = 1L << 20;
    /** VFIO's PCI numbering: 9 fixed regions, 5 irq indices. */
    static final int PCI_NUM_REGIONS = 9;
    static final int PCI_NUM_IRQS = 5;
    static final int DEVICE_FLAGS = 0x3; // RESET | PCI
    static final int IRQ_INFO_EVENTFD = 1;
    static final int IRQ_INFO_NORESIZE = 8;

    /** A DMA region the client mapped without an fd: served by DMA_READ/DMA_WRITE messages. */
    record MessageRegion(long address, long size, int flags) {
        long end() {
            return address + size;
        }
    }

    private final VfioUserServer server;
    private final VfioUserChannel channel;
    private final DeviceModel device;
    private final DmaRegions dma;
    private final Duration callTimeout;
    private final ConcurrentSkipListMap<Long, MessageRegion> messageRegions =
            new ConcurrentSkipListMap<>(Comparator.comparing(Long::longValue, Long::compareUnsigned));
    private final Map<Integer, CompletableFuture<RawMessage>> pending = new ConcurrentHashMap<>();
    /** Client commands read from the socket and not yet served, in socket order. */
    private final ConcurrentLinkedQueue<RawMessage> backlog = new ConcurrentLinkedQueue<>();
    /** Whoever reads the socket holds this: the server thread, or a thread waiting for its reply. */
    private final ReentrantLock readLock = new ReentrantLock();
    private final UnixSocket socket;
    private final AtomicInteger nextId = new AtomicInteger();
    private volatile Thread reader;
    private volatile boolean ended;
    private volatile boolean endOfStream;
    /** Whether the message being handled gave its fds to an owner (DMA regions, eventfds). */
    private boolean fdsTaken;
    private boolean versioned;
    private volatile Capabilities peer = Capabilities.DEFAULTS;
    private volatile Optional<PageTracking.Offer> tracking = Optional.empty();
    private long messages;

    Connection(VfioUserServer server, UnixSocket socket, VfioUserChannel channel, DeviceModel device, DmaRegions dma,
            Duration callTimeout) {
        this.server = requireNonNull(server, "server is null");
        this.socket = requireNonNull(socket, "socket is null");
        this.channel = requireNonNull(channel, "channel is null");
        this.device = requireNonNull(device, "device is null");
        this.dma = requireNonNull(dma, "dma is null");
        this.callTimeout = requireNonNull(callTimeout, "callTimeout is null");
    }

    /** Whether the client negotiated the page-tracking extension (and the connection is up). */
    boolean tracks() {
        return !ended && tracking.isPresent();
    }

    boolean ended() {
        return ended;
    }

    long messages() {
        return messages;
    }

    /** Serves the client until it disconnects or breaks the protocol; then tears the connection down. */
    void serve() {
        reader = Thread.currentThread();
        try {
            while (true) {
                RawMessage m = backlog.poll();
                if (m == null) {
                    if (endOfStream) {
                        break;
                    }
                    readLock.lock();
                    try {
                        if (backlog.isEmpty() && !endOfStream) {
                            readOne();
                        }
                    } finally {
                        readLock.unlock();
                    }
                    continue;
                }
                messages++;
                if (!handle(m)) {
                    break;
                }
            }
        } catch (GvtException e) {
            log.warn("{}: client dropped: {}", server.name(), e.getMessage());
        } catch (RuntimeException e) {
            log.error("{}: client dropped after an internal error", server.name(), e);
        } finally {
            end();
        }
    }

    /**
     * Reads one message (the caller holds {@link #readLock}): a reply completes its command's future, a
     * command joins the backlog. End of stream, a broken stream or a reply to nothing ends the stream and
     * fails every pending command.
     */
    private void readOne() {
        Optional<RawMessage> next;
        try {
            next = channel.receiveRaw();
        } catch (RuntimeException e) {
            endStream(e instanceof GvtException g ? g : new GvtException(ErrorCode.IO_ERROR, e.toString()));
            throw e;
        }
        if (next.isEmpty()) {
            endStream(new GvtException(ErrorCode.IO_ERROR, server.name() + ": the client disconnected"));
            return;
        }
        RawMessage m = next.get();
        if (!m.header().isReply()) {
            backlog.add(m);
            return;
        }
        m.closeFds();
        CompletableFuture<RawMessage> f = pending.remove(m.header().id());
        if (f == null) {
            GvtException e = new GvtException(ErrorCode.PROTOCOL_ERROR, "a reply with id " + m.header().id() + " to no command of the server");
            endStream(e);
            throw e;
        }
        f.complete(m);
    }

    private void endStream(GvtException cause) {
        endOfStream = true;
        channel.shutdown();
        pending.values().forEach(f -> f.completeExceptionally(cause));
    }

    /** Wakes the reader (end of stream) so that {@link #serve} tears down; for detach. */
    void shutdown() {
        channel.shutdown();
    }

    private void end() {
        ended = true;
        for (RawMessage m : backlog) {
            m.closeFds();
        }
        backlog.clear();
        GvtException gone = new GvtException(ErrorCode.IO_ERROR, server.name() + ": the client disconnected");
        pending.values().forEach(f -> f.completeExceptionally(gone));
        pending.clear();
        server.connectionEnding(this);
        List<MessageRegion> regions = new ArrayList<>(messageRegions.values());
        messageRegions.clear();
        for (MessageRegion r : regions) {
            unmappedQuietly(r.address(), r.size());
        }
        for (DmaRegions.Region r : dma.regions()) {
            unmappedQuietly(r.address(), r.size());
        }
        dma.close();
        channel.close();
    }

    private void unmappedQuietly(long address, long size) {
        try {
            device.dmaUnmapped(address, size);
        } catch (RuntimeException e) {
            log.error("{}: dmaUnmapped(0x{}, 0x{}) failed", server.name(), Long.toHexString(address), Long.toHexString(size), e);
        }
        server.remoteTracker().forget(address, size);
    }

    // ------------------------------------------------------------------ client → server

    /** Handles one message; false ends the connection. */
    private boolean handle(RawMessage m) {
        Header h = m.header();
        if (!versioned) {
            return version(m);
        }
        fdsTaken = false;
        try {
            Payload reply = dispatch(m);
            if (!fdsTaken) {
                m.closeFds();
            }
            if (!h.noReply()) {
                channel.send(Message.reply(h, reply));
            }
            return true;
        } catch (GvtException | IommuException e) {
            if (!fdsTaken) {
                m.closeFds();
            }
            server.failed(e.getMessage());
            if (h.noReply()) {
                log.warn("{}: a command sent without reply failed, dropping the client: {}", server.name(), e.getMessage());
                return false;
            }
            channel.send(Message.errorReply(h, Errnos.of(e)));
            return true;
        }
    }

    private boolean version(RawMessage m) {
        Header h = m.header();
        try {
            if (h.command() != Command.VERSION.number()) {
                throw new GvtException(ErrorCode.PROTOCOL_ERROR, "the first message must be VERSION, not command " + h.command());
            }
            if (m.fds().length != 0) {
                throw new GvtException(ErrorCode.PROTOCOL_ERROR, "VERSION carries no fds");
            }
            Version v = (Version) server.codec().decodePayload(h, m.payload());
            if (v.major() != MAJOR) {
                throw new GvtException(ErrorCode.INCOMPATIBLE_VERSION, "VERSION " + v.major() + "." + v.minor()
                        + ": this server speaks major " + MAJOR);
            }
            Capabilities caps = v.capabilities();
            Optional<PageTracking.Offer> offer = PageTracking.offer(caps);
            Map<String, Object> extra = new LinkedHashMap<>();
            Optional<PageTracking.Offer> agreed = offer.map(o -> new PageTracking.Offer(Math.min(o.version(), PageTracking.VERSION),
                    Math.min(o.maxFrames(), PageTracking.MAX_FRAMES)));
            agreed.ifPresent(a -> extra.put(PageTracking.CAPABILITY, a.toJson()));
            Capabilities ours = new Capabilities(MAX_MSG_FDS, MAX_DATA_XFER, Capabilities.DEFAULT_MAX_DMA_MAPS,
                    Capabilities.DEFAULT_PGSIZES, Optional.empty(), Optional.empty(), true, extra);
            peer = caps;
            tracking = agreed;
            versioned = true;
            channel.send(Message.reply(h, new Version(MAJOR, Math.min(v.minor(), MINOR), Optional.of(ours.toJson()))));
            server.versioned(this, agreed.isPresent());
            return true;
        } catch (GvtException e) {
            m.closeFds();
            log.warn("{}: VERSION refused, dropping the client: {}", server.name(), e.getMessage());
            if (!h.isReply()) {
                channel.send(Message.errorReply(h, Errno.EINVAL));
            }
            return false;
        }
    }

    private Payload dispatch(RawMessage m) {
        Header h = m.header();
        int[] fds = m.fds();
        if (h.command() == PageTracking.TRACKED_WRITE && tracking.isPresent()) {
            noFds(fds, "TRACKED_WRITE");
            trackedWrite(PageTracking.decodeTrackedWrite(m.payload(), "TRACKED_WRITE id " + h.id()));
            return Payload.Empty.INSTANCE;
        }
        Payload request = server.codec().decodePayload(h, m.payload());
        Command command = Command.byNumber(h.command()).orElseThrow();
        if (command.direction() != Command.Direction.CLIENT_TO_SERVER) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, command + " is a server-to-client command");
        }
        if (command != Command.DMA_MAP && command != Command.DEVICE_SET_IRQS) {
            noFds(fds, command.name());
        }
        return switch (command) {
            case VERSION -> throw new GvtException(ErrorCode.PROTOCOL_ERROR, "VERSION was negotiated already");
            case DMA_MAP -> dmaMap((DmaMap) request, fds);
            case DMA_UNMAP -> dmaUnmap((DmaUnmap) request);
            case DEVICE_GET_INFO -> deviceInfo((DeviceInfo) request);
            case DEVICE_GET_REGION_INFO -> regionInfo((RegionInfo) request);
            case DEVICE_GET_IRQ_INFO -> irqInfo((IrqInfo) request);
            case DEVICE_SET_IRQS -> {
                fdsTaken = true;
                server.irqs().apply((IrqSet) request, fds);
                yield Payload.Empty.INSTANCE;
            }
            case REGION_READ -> regionRead((RegionAccess) request);
            case REGION_WRITE -> regionWrite((RegionAccess) request);
            case REGION_WRITE_MULTI -> writeMulti((WriteMulti) request);
            case DEVICE_RESET -> {
                device.reset();
                yield Payload.Empty.INSTANCE;
            }
            case DEVICE_GET_REGION_IO_FDS, DEVICE_FEATURE, MIG_DATA_READ, MIG_DATA_WRITE ->
                    throw new GvtException(ErrorCode.UNSUPPORTED, command + " is not supported by this server");
            case DMA_READ, DMA_WRITE -> throw new IllegalStateException("unreachable: " + command);
        };
    }

    private static void noFds(int[] fds, String what) {
        if (fds.length != 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, what + " carries no fds, got " + fds.length);
        }
    }

    private Payload dmaMap(DmaMap request, int[] fds) {
        if (fds.length > 1) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "DMA_MAP carries at most one fd, got " + fds.length);
        }
        checkNoOverlap(request.address(), request.size(), fds.length == 1);
        if (fds.length == 1) {
            fdsTaken = true;
            dma.map(request, fds[0]);
        } else {
            long a = request.address();
            long s = request.size();
            int flags = request.flags();
            if ((flags & ~(DmaMap.FLAG_READ | DmaMap.FLAG_WRITE)) != 0 || flags == 0) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "DMA_MAP flags 0x" + Integer.toHexString(flags));
            }
            if (s == 0 || ((a | s) & 0xFFF) != 0 || Long.compareUnsigned(a + s - 1, a) < 0) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "DMA_MAP without fd: address 0x" + Long.toHexString(a)
                        + " size 0x" + Long.toHexString(s) + " must be 4 KiB aligned, non-empty, not wrapping");
            }
            messageRegions.put(a, new MessageRegion(a, s, flags));
        }
        return Payload.Empty.INSTANCE;
    }

    private void checkNoOverlap(long address, long size, boolean fdBacked) {
        long end = address + size;
        for (MessageRegion r : messageRegions.values()) {
            if (Long.compareUnsigned(r.address(), end) < 0 && Long.compareUnsigned(address, r.end()) < 0 && size != 0) {
                throw new IommuException(Errno.EEXIST, ErrorCode.ALREADY_EXISTS, "DMA_MAP 0x" + Long.toHexString(address)
                        + " overlaps the fd-less region " + r);
            }
        }
        if (!fdBacked) {
            for (DmaRegions.Region r : dma.regions()) {
                if (Long.compareUnsigned(r.address(), end) < 0 && Long.compareUnsigned(address, r.address() + r.size()) < 0) {
                    throw new IommuException(Errno.EEXIST, ErrorCode.ALREADY_EXISTS, "DMA_MAP 0x" + Long.toHexString(address)
                            + " overlaps the mapped region " + r);
                }
            }
        }
    }

    private Payload dmaUnmap(DmaUnmap request) {
        if ((request.flags() & DmaUnmap.FLAG_ALL) != 0 && request.address() == 0 && request.size() == 0
                && request.flags() == DmaUnmap.FLAG_ALL) {
            List<MessageRegion> all = new ArrayList<>(messageRegions.values());
            messageRegions.clear();
            for (MessageRegion r : all) {
                unmappedQuietly(r.address(), r.size());
            }
            for (DmaRegions.Region r : dma.regions()) {
                unmapFd(new DmaUnmap(DmaUnmap.LENGTH, 0, r.address(), r.size()));
            }
            return new DmaUnmap(DmaUnmap.LENGTH, request.flags(), request.address(), request.size());
        }
        MessageRegion r = request.flags() == 0 ? messageRegions.get(request.address()) : null;
        if (r != null && r.size() == request.size()) {
            messageRegions.remove(r.address());
            unmappedQuietly(r.address(), r.size());
        } else {
            unmapFd(request);
        }
        return new DmaUnmap(DmaUnmap.LENGTH, request.flags(), request.address(), request.size());
    }

    /** An fd-backed DMA_UNMAP: the device hears of the range first, then the IOMMU's interlock checks its pins. */
    private void unmapFd(DmaUnmap request) {
        if (request.flags() == 0) {
            for (DmaRegions.Region r : dma.regions()) {
                if (r.address() == request.address() && r.size() == request.size()) {
                    unmappedQuietly(r.address(), r.size());
                }
            }
        }
        dma.unmap(request);
        server.remoteTracker().forget(request.address(), request.size());
    }

    private DeviceLayout layout() {
        return device.layout();
    }

    private int numRegions() {
        int n = PCI_NUM_REGIONS;
        for (DeviceLayout.Region r : layout().regions()) {
            n = Math.max(n, r.index() + 1);
        }
        return n;
    }

    private Payload deviceInfo(DeviceInfo request) {
        if (Integer.toUnsignedLong(request.argsz()) < DeviceInfo.LENGTH) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "DEVICE_GET_INFO argsz " + request.argsz());
        }
        return new DeviceInfo(DeviceInfo.LENGTH, DEVICE_FLAGS, numRegions(), PCI_NUM_IRQS);
    }

    private Payload regionInfo(RegionInfo request) {
        int index = request.index();
        if (index < 0 || index >= numRegions()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "GET_REGION_INFO index " + Integer.toUnsignedString(index)
                    + ": the device has " + numRegions() + " regions");
        }
        Optional<DeviceLayout.Region> region = layout().region(index);
        if (region.isEmpty()) {
            return new RegionInfo(RegionInfo.LENGTH, 0, index, 0, 0, List.of());
        }
        DeviceLayout.Region r = region.get();
        int flags = (r.readable() ? RegionInfo.FLAG_READ : 0) | (r.writable() ? RegionInfo.FLAG_WRITE : 0);
        List<RegionCap> caps = new ArrayList<>();
        if (index >= DeviceLayout.FIRST_DEVICE_REGION) {
            caps.add(new TypeCap(1, r.type(), r.subtype()));
        }
        // mmap areas (the aperture slice) are not offered: no fd can back them honestly, every access is trapped
        RegionInfo full = new RegionInfo(0, flags | (caps.isEmpty() ? 0 : RegionInfo.FLAG_CAPS), index, r.size(), regionOffset(index), caps);
        int needed = full.length();
        if (Integer.toUnsignedLong(request.argsz()) < needed) {
            return new RegionInfo(needed, flags, index, r.size(), regionOffset(index), List.of());
        }
        return new RegionInfo(needed, full.flags(), index, r.size(), regionOffset(index), caps);
    }

    /** The region's offset for mmap: 0, as libvfio-user reports it; no region of this server is mmappable. */
    private static long regionOffset(int index) {
        return 0;
    }

    private Payload irqInfo(IrqInfo request) {
        int index = request.index();
        if (index < 0 || index >= PCI_NUM_IRQS) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "GET_IRQ_INFO index " + Integer.toUnsignedString(index)
                    + ": the device has " + PCI_NUM_IRQS + " irq indices");
        }
        int count = 0;
        for (DeviceLayout.Irq irq : layout().irqs()) {
            if (irq.index() == index) {
                count = irq.count();
            }
        }
        int flags = count == 0 ? 0 : IRQ_INFO_EVENTFD | (index == DeviceLayout.IRQ_INTX ? 0 : IRQ_INFO_NORESIZE);
        return new IrqInfo(IrqInfo.LENGTH, flags, index, count);
    }

    private DeviceLayout.Region accessible(int index, long offset, long count, boolean write) {
        DeviceLayout.Region r = layout().region(index).orElseThrow(() -> new GvtException(ErrorCode.INVALID_ARGUMENT,
                "region " + Integer.toUnsignedString(index) + " does not exist"));
        if (write ? !r.writable() : !r.readable()) {
            throw new GvtException(ErrorCode.PERMISSION_DENIED, "region " + r.name() + " is not " + (write ? "writable" : "readable"));
        }
        if (count < 1 || count > MAX_DATA_XFER) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "count " + count + " outside 1.." + MAX_DATA_XFER);
        }
        if (offset < 0 || offset > r.size() || count > r.size() - offset) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "offset 0x" + Long.toHexString(offset) + " count " + count
                    + " outside region " + r.name() + " of 0x" + Long.toHexString(r.size()) + " bytes");
        }
        return r;
    }

    /** The size of the next device access: the largest naturally aligned 1, 2, 4 or 8 that fits. */
    private static int piece(long offset, long remaining) {
        int size = 8;
        while (size > 1 && ((offset & (size - 1)) != 0 || size > remaining)) {
            size >>= 1;
        }
        return size;
    }

    private Payload regionRead(RegionAccess request) {
        long count = Integer.toUnsignedLong(request.count());
        accessible(request.region(), request.offset(), count, false);
        byte[] data = new byte[(int) count];
        ByteBuffer out = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        long done = 0;
        while (done < count) {
            int size = piece(request.offset() + done, count - done);
            long v = device.read(request.region(), request.offset() + done, size);
            for (int i = 0; i < size; i++) {
                out.put((int) done + i, (byte) (v >>> (8 * i)));
            }
            done += size;
        }
        return new RegionAccess(request.offset(), request.region(), request.count(), data);
    }

    private Payload regionWrite(RegionAccess request) {
        long count = Integer.toUnsignedLong(request.count());
        accessible(request.region(), request.offset(), count, true);
        writeBytes(request.region(), request.offset(), request.data());
        return new RegionAccess(request.offset(), request.region(), request.count());
    }

    private void writeBytes(int region, long offset, byte[] data) {
        long done = 0;
        while (done < data.length) {
            int size = piece(offset + done, data.length - done);
            long v = 0;
            for (int i = 0; i < size; i++) {
                v |= (data[(int) done + i] & 0xFFL) << (8 * i);
            }
            device.write(region, offset + done, size, v);
            done += size;
        }
    }

    private Payload writeMulti(WriteMulti request) {
        long done = 0;
        for (WriteRecord w : request.writes()) {
            accessible(w.region(), w.offset(), w.count(), true);
            byte[] bytes = new byte[w.count()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (w.data() >>> (8 * i));
            }
            writeBytes(w.region(), w.offset(), bytes);
            done++;
        }
        return new WriteMultiReply(done);
    }

    private void trackedWrite(TrackedWrite write) {
        if (server.remoteTracker().isTracked(write.gpa() >>> 12)) {
            device.trackedWrite(write.gpa(), MemorySegment.ofArray(write.data()));
        }
    }

    // ------------------------------------------------------------------ server → client

    /** The fd-less region containing {@code address}, if any. */
    MessageRegion messageRegionAt(long address) {
        Map.Entry<Long, MessageRegion> e = messageRegions.floorEntry(address);
        if (e != null && Long.compareUnsigned(address, e.getValue().end()) < 0) {
            return e.getValue();
        }
        return null;
    }

    /** The start of the first fd-less region above {@code address}, or 0 (meaning none: 2^64). */
    long nextMessageRegion(long address) {
        Long k = messageRegions.higherKey(address);
        return k == null ? 0 : k;
    }

    boolean hasMessageRegions() {
        return !messageRegions.isEmpty();
    }

    /** DMA_READ of {@code dst.byteSize()} bytes at {@code address}, chunked to the client's transfer limit. */
    void dmaRead(long address, MemorySegment dst) {
        long chunk = Math.min(peer.maxDataXferSize(), MAX_DATA_XFER);
        for (long done = 0; done < dst.byteSize(); done += chunk) {
            long n = Math.min(chunk, dst.byteSize() - done);
            RawMessage reply = call(Command.DMA_READ.number(), new DmaAccess(address + done, n), "DMA_READ");
            DmaAccess r = (DmaAccess) server.codec().decodePayload(reply.header(), reply.payload());
            if (r.address() != address + done || r.count() != n || r.data().length != n) {
                throw new GvtException(ErrorCode.PROTOCOL_ERROR, "DMA_READ reply for 0x" + Long.toHexString(address + done)
                        + " count " + n + " answered " + r);
            }
            MemorySegment.copy(MemorySegment.ofArray(r.data()), 0, dst, done, n);
        }
    }

    /** DMA_WRITE of {@code src} at {@code address}, chunked to the client's transfer limit. */
    void dmaWrite(long address, MemorySegment src) {
        long chunk = Math.min(peer.maxDataXferSize(), MAX_DATA_XFER);
        for (long done = 0; done < src.byteSize(); done += chunk) {
            long n = Math.min(chunk, src.byteSize() - done);
            byte[] data = src.asSlice(done, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            call(Command.DMA_WRITE.number(), new DmaAccess(address + done, n, data), "DMA_WRITE");
        }
    }

    /** TRACK_SET for {@code gfns}; returns when the client has the protection change in force. */
    void trackSet(boolean protect, long... gfns) {
        if (tracking.isEmpty()) {
            throw new GvtException(ErrorCode.UNSUPPORTED, "the client did not negotiate " + PageTracking.CAPABILITY);
        }
        RawMessage reply = call(PageTracking.TRACK_SET, TrackSet.request(protect, gfns), "TRACK_SET");
        PageTracking.decodeTrackSet(reply.payload(), true, "TRACK_SET reply id " + reply.header().id());
    }

    /**
     * Sends a command to the client and waits for its reply; an error reply throws with the errno's code.
     * Whoever holds the read lock reads the socket: usually the server thread, which completes the reply; but
     * when the server thread is busy (for example waiting for the device while this thread holds the device),
     * the waiting thread takes the lock and reads the reply itself, queueing any client command it reads for
     * the server thread. On the server thread the socket is read here directly.
     */
    private RawMessage call(int command, Payload payload, String what) {
        if (ended || endOfStream) {
            throw new GvtException(ErrorCode.IO_ERROR, what + ": the client is gone");
        }
        int id = nextId.getAndIncrement() & 0xFFFF;
        Message message = new Message(new Header(id, command, Header.SIZE + payload.length(), Header.TYPE_COMMAND, 0), payload);
        CompletableFuture<RawMessage> f = new CompletableFuture<>();
        pending.put(id, f);
        RawMessage reply;
        try {
            channel.send(message);
            reply = awaitReply(f, what);
        } finally {
            pending.remove(id);
        }
        if (reply.header().command() != command) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR, what + ": the reply with id " + id + " is for command "
                    + reply.header().command());
        }
        if (reply.header().isError()) {
            int errno = reply.header().error();
            throw new GvtException(Errnos.code(errno), what + ": the client replied " + Errno.name(errno));
        }
        return reply;
    }

    private RawMessage awaitReply(CompletableFuture<RawMessage> f, String what) {
        boolean onReader = Thread.currentThread() == reader;
        long deadline = System.nanoTime() + callTimeout.toNanos();
        while (!f.isDone()) {
            if (endOfStream) {
                throw new GvtException(ErrorCode.IO_ERROR, what + ": the client disconnected before replying");
            }
            if (onReader) {
                readLock.lock();
                try {
                    if (!f.isDone() && !endOfStream) {
                        readOne();
                    }
                } finally {
                    readLock.unlock();
                }
                continue;
            }
            if (System.nanoTime() > deadline) {
                throw new GvtException(ErrorCode.TIMEOUT, what + ": no reply from the client within " + callTimeout.toMillis() + " ms");
            }
            if (readLock.tryLock()) {
                try {
                    if (!f.isDone() && !endOfStream && socket.available() > 0) {
                        readOne();
                    }
                } finally {
                    readLock.unlock();
                }
                if (!f.isDone()) {
                    LockSupport.parkNanos(20_000);
                }
            } else {
                try {
                    f.get(100, TimeUnit.MICROSECONDS);
                } catch (TimeoutException e) {
                    // poll again
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new GvtException(ErrorCode.IO_ERROR, what + ": interrupted");
                } catch (ExecutionException e) {
                    break;
                }
            }
        }
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof GvtException g ? new GvtException(g.code(), what + ": " + g.getMessage(), g)
                    : new GvtException(ErrorCode.IO_ERROR, what + ": " + e.getCause());
        }
    }

    static void closeFds(int[] fds) {
        for (int fd : fds) {
            Libc.rawClose(fd);
        }
    }
}
