package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.PageTracking;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackSet;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's own commands to the client (DMA_READ/DMA_WRITE for memory mapped without an fd, TRACK_SET for
 * page tracking), issued from any thread, and the routing of the client's replies to them.
 *
 * <p>Waiting never polls. The socket is read by whoever holds the connection's read lock: normally the
 * serving thread, blocked in {@code recvmsg}, which routes a reply to its waiter, whose future completes (a
 * waiter never queues on the lock: it tries it, and otherwise waits for its future, trying the lock again after
 * {@link Connection#READER_HANDOVER_NANOS}). A waiter that gets the lock while the serving
 * thread is busy with a client command (for example waiting for a device lock the waiter holds) reads the
 * socket itself: it blocks in {@code poll} until data or its deadline, reads one message, completes its own
 * reply or queues a client command for the serving thread. On the serving thread (a device call made while
 * serving a command) the socket is read directly until the reply arrives.
 */
final class ClientCalls {
    private final Connection connection;
    private final Duration timeout;
    private final Map<Integer, CompletableFuture<RawMessage>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger();

    ClientCalls(Connection connection, Duration timeout) {
        this.connection = requireNonNull(connection, "connection is null");
        this.timeout = requireNonNull(timeout, "timeout is null");
    }

    /** A reply read from the socket: completes its command; false if it answers no command of ours. */
    boolean complete(RawMessage reply) {
        CompletableFuture<RawMessage> f = pending.remove(reply.header().id());
        if (f == null) {
            return false;
        }
        f.complete(reply);
        return true;
    }

    /** Fails every waiting command (the stream ended). */
    void failAll(GvtException cause) {
        pending.values().forEach(f -> f.completeExceptionally(cause));
        pending.clear();
    }

    /** DMA_READ of {@code dst.byteSize()} bytes at {@code address}, chunked to the client's transfer limit. */
    void dmaRead(long address, MemorySegment dst) {
        long chunk = Math.min(connection.peer().maxDataXferSize(), RegionIo.MAX_DATA_XFER);
        for (long done = 0; done < dst.byteSize(); done += chunk) {
            long n = Math.min(chunk, dst.byteSize() - done);
            RawMessage reply = call(Command.DMA_READ.number(), new DmaAccess(address + done, n), "DMA_READ");
            DmaAccess r = (DmaAccess) connection.codec().decodePayload(reply.header(), reply.payload());
            if (r.address() != address + done || r.count() != n || r.data().length != n) {
                throw new GvtException(ErrorCode.PROTOCOL_ERROR, "DMA_READ reply for 0x" + Long.toHexString(address + done)
                        + " count " + n + " answered " + r);
            }
            MemorySegment.copy(MemorySegment.ofArray(r.data()), 0, dst, done, n);
        }
    }

    /** DMA_WRITE of {@code src} at {@code address}, chunked to the client's transfer limit. */
    void dmaWrite(long address, MemorySegment src) {
        long chunk = Math.min(connection.peer().maxDataXferSize(), RegionIo.MAX_DATA_XFER);
        for (long done = 0; done < src.byteSize(); done += chunk) {
            long n = Math.min(chunk, src.byteSize() - done);
            byte[] data = src.asSlice(done, n).toArray(ValueLayout.JAVA_BYTE);
            call(Command.DMA_WRITE.number(), new DmaAccess(address + done, n, data), "DMA_WRITE");
        }
    }

    /** TRACK_SET for {@code gfns}; returns when the client has the protection change in force. */
    void trackSet(boolean protect, long... gfns) {
        RawMessage reply = call(PageTracking.TRACK_SET, TrackSet.request(protect, gfns), "TRACK_SET");
        PageTracking.decodeTrackSet(reply.payload(), true, "TRACK_SET reply id " + reply.header().id());
    }

    /** Sends a command to the client and waits for its reply; an error reply throws with the errno's code. */
    private RawMessage call(int command, Payload payload, String what) {
        if (connection.ended()) {
            throw new GvtException(ErrorCode.IO_ERROR, what + ": the client is gone");
        }
        int id = nextId.getAndIncrement() & 0xFFFF;
        Message message = new Message(new Header(id, command, Header.SIZE + payload.length(), Header.TYPE_COMMAND, 0), payload);
        CompletableFuture<RawMessage> f = new CompletableFuture<>();
        pending.put(id, f);
        RawMessage reply;
        try {
            connection.send(VfioUserCodec.encode(message));
            reply = await(f, what);
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

    private RawMessage await(CompletableFuture<RawMessage> f, String what) {
        boolean onServingThread = connection.isServingThread();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!f.isDone()) {
            if (connection.streamEnded()) {
                throw new GvtException(ErrorCode.IO_ERROR, what + ": the client disconnected before replying");
            }
            long remaining = onServingThread ? Long.MAX_VALUE : deadline - System.nanoTime();
            if (remaining <= 0) {
                throw new GvtException(ErrorCode.TIMEOUT, what + ": no reply from the client within " + timeout.toMillis() + " ms");
            }
            try {
                connection.readFor(f, remaining);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GvtException(ErrorCode.IO_ERROR, what + ": interrupted");
            }
        }
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof GvtException g ? new GvtException(g.code(), what + ": " + g.getMessage(), g)
                    : new GvtException(ErrorCode.IO_ERROR, what + ": " + e.getCause());
        }
    }
}
