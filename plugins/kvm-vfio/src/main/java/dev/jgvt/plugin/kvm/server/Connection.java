package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.iommu.SoftIommu;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.MessageIo;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.os.Waits;
import dev.jgvt.plugin.kvm.vfiouser.Capabilities;
import dev.jgvt.plugin.kvm.vfiouser.DmaRegions;
import dev.jgvt.plugin.kvm.vfiouser.FrameReader;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.PageTracking;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of a {@link VfioUserServer}: the request loop. The serving thread blocks in {@code recvmsg}
 * (no timed wake-ups), takes one message at a time out of the {@link FrameReader}, and serves it on the same
 * thread (the thread that calls the {@link DeviceModel}): small region accesses through {@link RegionIo}'s
 * allocation-free path, everything else through {@link Handshake} / {@link Handlers}. The server's own
 * commands to the client are {@link ClientCalls}; DMA bookkeeping is the {@link SoftIommu}'s, through
 * {@link DmaRegions}.
 *
 * <p>A malformed message whose boundaries are known gets an error reply and the connection goes on; a broken
 * stream, a VERSION violation, or an error on a NO_REPLY command ends it. Ending unmaps the client's DMA
 * regions (through the interlock, which announces each to the device), closes its eventfds and forgets page
 * tracking; device state stays.
 */
final class Connection implements SoftIommu.RemoteDma {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);

    private final VfioUserServer server;
    private final UnixSocket socket;
    private final DmaRegions dma;
    private final MessageIo io;
    private final FrameReader frames;
    private final RegionIo regionIo;
    private final Handlers handlers;
    private final ClientCalls calls;
    /** How long a thread waiting for a reply leaves the reading to another thread before it tries to read itself. */
    static final long READER_HANDOVER_NANOS = 1_000_000;
    private static final int[] NO_FDS = new int[0];
    /**
     * Whoever reads the socket holds this: the serving thread, or a thread waiting for its reply. Only the serving
     * thread ever waits for it ({@code lock}); a waiting thread only tries it and otherwise waits for its reply, so
     * fairness would buy nothing.
     */
    private final ReentrantLock readLock = new ReentrantLock();
    /**
     * Whoever sends holds this (a message goes out whole; the send half of the message I/O has one user at a time).
     * A monitor rather than a lock object: the serving thread takes it once per reply, and a monitor's fast path
     * touches this object's header and the thread's lock stack, not a lock and its synchronizer object.
     */
    private final Object sendLock = new Object();
    /**
     * How long the serving thread polls the socket before it blocks for the next message (0, the default: it blocks
     * at once); opt-in, see docs/decisions/0017.
     */
    private final long pollNanos;
    /** Client commands read by a waiting thread and not yet served, in socket order; under the read lock. */
    private final ArrayDeque<RawMessage> backlog = new ArrayDeque<>();
    private final Arena arena = Arena.ofShared();
    private MemorySegment request;
    /** The trap path's replies: the message I/O's send area, next to the send msghdr. */
    private final MemorySegment out;
    /** For messages sent by {@link #send(byte[])}, under the send lock. */
    private MemorySegment sendBuffer;
    private volatile Thread servingThread;
    private volatile boolean ended;
    private volatile boolean endOfStream;
    private boolean versioned;
    private volatile Capabilities peer = Capabilities.DEFAULTS;
    private volatile Optional<PageTracking.Offer> tracking = Optional.empty();
    private long messages;

    Connection(VfioUserServer server, UnixSocket socket, DeviceModel device, DmaRegions dma, Duration callTimeout) {
        this.server = requireNonNull(server, "server is null");
        this.socket = requireNonNull(socket, "socket is null");
        this.dma = requireNonNull(dma, "dma is null");
        requireNonNull(device, "device is null");
        this.io = new MessageIo(socket, Handshake.MAX_MSG_FDS);
        this.frames = new FrameReader(io, server.codec().maxMessageSize());
        ServedLayout layout = new ServedLayout(device.layout());
        this.regionIo = new RegionIo(device, layout);
        this.handlers = new Handlers(server, this, device, layout, regionIo, dma);
        this.calls = new ClientCalls(this, callTimeout);
        this.pollNanos = server.pollNanos();
        this.request = arena.allocate(4096, 8);
        this.out = io.sendArea();
        this.sendBuffer = arena.allocate(4096, 8);
    }

    VfioUserCodec codec() {
        return server.codec();
    }

    Capabilities peer() {
        return peer;
    }

    /** Whether the client negotiated the page-tracking extension (and the connection is up). */
    boolean tracks() {
        return !ended && tracking.isPresent();
    }

    boolean ended() {
        return ended || endOfStream;
    }

    boolean streamEnded() {
        return endOfStream;
    }

    boolean isServingThread() {
        return Thread.currentThread() == servingThread;
    }

    long messages() {
        return messages;
    }

    /** Serves the client until it disconnects or breaks the protocol; then tears the connection down. */
    void serve() {
        servingThread = Thread.currentThread();
        try {
            while (true) {
                RawMessage queued;
                boolean taken = false;
                int size = 0;
                int[] fds = NO_FDS;
                readLock.lock();
                try {
                    queued = backlog.pollFirst();
                    if (queued == null) {
                        if (endOfStream) {
                            break;
                        }
                        if (!nextCommand(pollNanos)) {
                            continue;
                        }
                        // a small region access is decoded out of the reader's buffer (the trap path); anything
                        // else is copied out. Either way the device is called after the lock is let go, so that a
                        // thread waiting for a reply can read the socket meanwhile.
                        size = frames.size();
                        fds = frames.takeFds();
                        taken = versioned && fds.length == 0 && regionIo.take(frames.buffer(), frames.offset(), size);
                        if (!taken) {
                            request = fit(request, size);
                            MemorySegment.copy(frames.buffer(), frames.offset(), request, 0, size);
                        }
                        frames.consume();
                    }
                } finally {
                    readLock.unlock();
                }
                messages++;
                if (!(queued != null ? handle(queued) : taken ? serveTaken() : serveOne(size, fds))) {
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

    private MemorySegment fit(MemorySegment segment, long size) {
        return segment.byteSize() >= size ? segment : arena.allocate(Math.max(size, 2 * segment.byteSize()), 8);
    }

    /**
     * Reads the next message (read lock held): a reply is routed to its waiter and false returned; a command
     * stays current in the reader and true is returned; the end of the stream is false too.
     */
    private boolean nextCommand(long poll) {
        try {
            if (!frames.next(poll)) {
                endStream(new GvtException(ErrorCode.IO_ERROR, server.name() + ": the client disconnected"));
                return false;
            }
        } catch (RuntimeException e) {
            endStream(e instanceof GvtException g ? g : new GvtException(ErrorCode.IO_ERROR, e.toString()));
            throw e;
        }
        if ((frames.flags() & Header.TYPE_MASK) != Header.TYPE_REPLY) {
            return true;
        }
        RawMessage reply = copyFrame();
        reply.closeFds();
        if (!calls.complete(reply)) {
            GvtException e = new GvtException(ErrorCode.PROTOCOL_ERROR, "a reply with id " + reply.header().id() + " to no command of the server");
            endStream(e);
            throw e;
        }
        return false;
    }

    /** The current frame as a message (allocates; not the trap path); consumes it. */
    private RawMessage copyFrame() {
        int size = frames.size();
        byte[] payload = new byte[size - Header.SIZE];
        MemorySegment.copy(frames.buffer(), ValueLayout.JAVA_BYTE, frames.offset() + Header.SIZE, payload, 0, payload.length);
        Header h = new Header(frames.id(), frames.command(), size, frames.flags(), frames.error());
        int[] fds = frames.takeFds();
        frames.consume();
        return new RawMessage(h, payload, fds);
    }

    /**
     * For a thread waiting for {@code reply} (from {@link ClientCalls}): when another thread holds the read lock,
     * waits for the reply itself, at most {@link #READER_HANDOVER_NANOS} or {@code nanos}; holding the lock, reads
     * one message if the reply is still missing (off the serving thread, only once the socket is readable within
     * the time left, so it never blocks past its deadline).
     */
    void readFor(CompletableFuture<RawMessage> reply, long nanos) throws InterruptedException {
        boolean serving = isServingThread();
        if (serving) {
            readLock.lock();
        } else if (!readLock.tryLock()) {
            // Another thread reads the socket and routes every reply, ours included: wait for the reply itself
            // (not for the lock, which the serving thread takes again at once after routing it), and come back
            // for the lock after READER_HANDOVER_NANOS in case the reader stopped reading without our reply
            // (the serving thread gone into the device, which may wait for this very thread).
            try {
                reply.get(Math.min(nanos, READER_HANDOVER_NANOS), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // the caller looks at the reply and its deadline again
            }
            return;
        }
        try {
            if (reply.isDone() || endOfStream) {
                return;
            }
            if (!serving && !frames.hasBufferedFrame() && !Waits.awaitReadable(socket.fd(), (int) Math.max(1, Math.min(Integer.MAX_VALUE, nanos / 1_000_000)))) {
                return;
            }
            if (nextCommand(serving ? pollNanos : 0)) {
                backlog.addLast(copyFrame());
            }
        } finally {
            readLock.unlock();
        }
    }

    private void endStream(GvtException cause) {
        endOfStream = true;
        socket.shutdown();
        calls.failAll(cause);
    }

    /** Wakes the serving thread (end of stream) so that {@link #serve} tears down; for detach. */
    void shutdown() {
        socket.shutdown();
    }

    private void end() {
        ended = true;
        readLock.lock();
        try {
            for (RawMessage m : backlog) {
                m.closeFds();
            }
            backlog.clear();
        } finally {
            readLock.unlock();
        }
        calls.failAll(new GvtException(ErrorCode.IO_ERROR, server.name() + ": the client disconnected"));
        server.connectionEnding(this);
        dma.close(); // announces each region to the device, then unmaps it through the interlock
        // the message I/O is closed with both locks held: nobody is in a call with its buffers, later calls fail
        readLock.lock();
        try {
            frames.close();
            synchronized (sendLock) {
                io.close();
                socket.close();
            }
        } finally {
            readLock.unlock();
        }
        arena.close();
    }

    /** Serves the small region access {@link RegionIo#take taken} out of the last frame; false ends the connection. */
    private boolean serveTaken() {
        int replySize;
        try {
            replySize = regionIo.serveTaken(out);
        } catch (GvtException | IommuException e) {
            return failed(regionIo.takenHeader(), e, NO_FDS);
        }
        if (!regionIo.takenNoReply()) {
            send(out, replySize);
        }
        return true;
    }

    /** Serves the request of {@code size} bytes in {@link #request} through the decoded path; false ends the connection. */
    private boolean serveOne(int size, int[] fds) {
        byte[] payload = new byte[size - Header.SIZE];
        MemorySegment.copy(request, ValueLayout.JAVA_BYTE, Header.SIZE, payload, 0, payload.length);
        return handle(new RawMessage(requestHeader(size), payload, fds));
    }

    private Header requestHeader(int size) {
        return new Header(Short.toUnsignedInt(request.get(RegionIo.LE_SHORT, 0)), Short.toUnsignedInt(request.get(RegionIo.LE_SHORT, 2)),
                size, request.get(RegionIo.LE_INT, 8), request.get(RegionIo.LE_INT, 12));
    }

    /** Handles one decoded-path message; false ends the connection. */
    private boolean handle(RawMessage m) {
        Header h = m.header();
        if (!versioned) {
            return version(m);
        }
        boolean fdsTaken = false;
        try {
            Handlers.Request r = handlers.validate(m, tracking.isPresent());
            fdsTaken = Handlers.takesFds(r);
            Payload reply = handlers.handle(r);
            if (!h.noReply()) {
                send(VfioUserCodec.encode(Message.reply(h, reply)));
            }
            return true;
        } catch (GvtException | IommuException e) {
            return failed(h, e, fdsTaken ? new int[0] : m.fds());
        }
    }

    /** A command failed: its fds not taken are closed, an error reply goes out (or, for NO_REPLY, the client). */
    private boolean failed(Header h, RuntimeException e, int[] fdsLeft) {
        for (int fd : fdsLeft) {
            dev.jgvt.plugin.kvm.os.Libc.rawClose(fd);
        }
        server.failed(e.getMessage());
        if (h.noReply()) {
            log.warn("{}: a command sent without reply failed, dropping the client: {}", server.name(), e.getMessage());
            return false;
        }
        send(VfioUserCodec.encode(Message.errorReply(h, Errnos.of(e))));
        return true;
    }

    private boolean version(RawMessage m) {
        try {
            Handshake.Agreed a = Handshake.negotiate(m, server.codec());
            peer = a.peer();
            tracking = a.tracking();
            versioned = true;
            send(VfioUserCodec.encode(Message.reply(m.header(), a.reply())));
            server.versioned(this, a.tracking().isPresent());
            return true;
        } catch (GvtException e) {
            m.closeFds();
            log.warn("{}: VERSION refused, dropping the client: {}", server.name(), e.getMessage());
            if (!m.header().isReply()) {
                send(VfioUserCodec.encode(Message.errorReply(m.header(), Errno.EINVAL)));
            }
            return false;
        }
    }

    /** Sends a whole message (any thread). */
    void send(byte[] bytes) {
        synchronized (sendLock) {
            ensureOpen();
            sendBuffer = fit(sendBuffer, bytes.length);
            MemorySegment.copy(bytes, 0, sendBuffer, ValueLayout.JAVA_BYTE, 0, bytes.length);
            io.send(sendBuffer, 0, bytes.length);
        }
    }

    private void send(MemorySegment segment, int length) {
        synchronized (sendLock) {
            ensureOpen();
            io.send(segment, 0, length);
        }
    }

    private void ensureOpen() {
        if (ended) {
            throw new GvtException(ErrorCode.IO_ERROR, server.name() + ": the client is gone");
        }
    }

    // ------------------------------------------------------------------ server → client

    @Override
    public void access(long iova, MemorySegment buf, boolean write) {
        if (write) {
            calls.dmaWrite(iova, buf);
        } else {
            calls.dmaRead(iova, buf);
        }
    }

    /** TRACK_SET for {@code gfns}; returns when the client has the protection change in force. */
    void trackSet(boolean protect, long... gfns) {
        if (tracking.isEmpty()) {
            throw new GvtException(ErrorCode.UNSUPPORTED, "the client did not negotiate " + PageTracking.CAPABILITY);
        }
        calls.trackSet(protect, gfns);
    }
}
