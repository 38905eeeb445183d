package dev.jgvt.plugin.kvm.vfiouser;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * vfio-user messages over one connected {@link UnixSocket}: a message is sent with one {@code sendmsg}
 * whose fds ride on its first bytes; a message is received by reading the 16-byte header with
 * {@code recvmsg} (where the fds arrive), checking it, then reading exactly the rest.
 *
 * <p>Threading: sends are serialised by a lock (a server may send DMA commands while replying); receive
 * from one thread. Received fds belong to the caller, who must close those it does not keep.
 */
public final class VfioUserChannel implements AutoCloseable {
    private final UnixSocket socket;
    private final VfioUserCodec codec;
    private final int maxFds;
    private final ReentrantLock sendLock = new ReentrantLock();

    /**
     * @param maxFds fds accepted per received message (what this side announced as {@code max_msg_fds})
     */
    public VfioUserChannel(UnixSocket socket, VfioUserCodec codec, int maxFds) {
        this.socket = requireNonNull(socket, "socket is null");
        this.codec = requireNonNull(codec, "codec is null");
        if (maxFds < 0 || maxFds > UnixSocket.MAX_FDS_PER_MESSAGE) {
            throw new IllegalArgumentException("maxFds " + maxFds);
        }
        this.maxFds = maxFds;
    }

    /** A received message before payload decoding, so that a bad payload can still be answered by id. */
    public record RawMessage(Header header, byte[] payload, int[] fds) {
        public RawMessage {
            requireNonNull(header, "header is null");
            requireNonNull(payload, "payload is null");
            fds = fds.clone();
        }

        @Override
        public int[] fds() {
            return fds.clone();
        }

        /** Closes every fd that came with the message (for messages that keep none). */
        public void closeFds() {
            for (int fd : fds) {
                Libc.rawClose(fd);
            }
        }

        @Override
        public String toString() {
            return "RawMessage[" + header + ", payload " + payload.length + " bytes, fds " + Arrays.toString(fds) + "]";
        }
    }

    /** A decoded message with the fds that came with it. */
    public record Received(Message message, int[] fds) {
        public Received {
            requireNonNull(message, "message is null");
            fds = fds.clone();
        }

        @Override
        public int[] fds() {
            return fds.clone();
        }
    }

    /** Sends {@code message} with {@code fds} attached. */
    public void send(Message message, int... fds) {
        byte[] bytes = VfioUserCodec.encode(message);
        sendLock.lock();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(bytes.length);
            MemorySegment.copy(bytes, 0, buf, ValueLayout.JAVA_BYTE, 0, bytes.length);
            socket.send(buf, fds);
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * Receives the next message without decoding its payload; empty when the peer closed the connection
     * between messages. A connection closed inside a message, a bad header, an oversize size or
     * {@code MSG_CTRUNC} is a {@link ErrorCode#PROTOCOL_ERROR} (received fds are closed first); after one
     * the stream position is unknown and the connection should be dropped.
     */
    public Optional<RawMessage> receiveRaw() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment head = arena.allocate(Header.SIZE);
            UnixSocket.Received first = socket.receive(head, maxFds, true);
            int[] fds = first.fds();
            try {
                long got = first.bytes();
                if (got == 0) {
                    closeAll(fds);
                    return Optional.empty();
                }
                if (got < Header.SIZE) {
                    got += socket.receiveFully(head.asSlice(got));
                }
                if (got < Header.SIZE) {
                    throw new GvtException(ErrorCode.PROTOCOL_ERROR,
                            "truncated header: the peer closed after " + got + " of " + Header.SIZE + " bytes");
                }
                byte[] headerBytes = head.toArray(ValueLayout.JAVA_BYTE);
                Header header = codec.decodeHeader(headerBytes, 0, Header.SIZE);
                int payloadSize = (int) header.payloadSize();
                byte[] payload = new byte[payloadSize];
                if (payloadSize > 0) {
                    MemorySegment body = arena.allocate(payloadSize);
                    long n = socket.receiveFully(body);
                    if (n < payloadSize) {
                        throw new GvtException(ErrorCode.PROTOCOL_ERROR, "truncated message: header.size " + header.size()
                                + " but the peer closed after " + (Header.SIZE + n) + " bytes");
                    }
                    MemorySegment.copy(body, ValueLayout.JAVA_BYTE, 0, payload, 0, payloadSize);
                }
                return Optional.of(new RawMessage(header, payload, fds));
            } catch (RuntimeException e) {
                closeAll(fds);
                throw e;
            }
        }
    }

    /** Receives and decodes the next message; empty at a clean end of connection. Decoding errors close the fds. */
    public Optional<Received> receive() {
        Optional<RawMessage> raw = receiveRaw();
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        RawMessage r = raw.get();
        try {
            return Optional.of(new Received(new Message(r.header(), codec.decodePayload(r.header(), r.payload())), r.fds()));
        } catch (RuntimeException e) {
            r.closeFds();
            throw e;
        }
    }

    private static void closeAll(int[] fds) {
        for (int fd : fds) {
            Libc.rawClose(fd);
        }
    }

    /** Wakes a blocked receiver (end of file) without closing the fd. */
    public void shutdown() {
        socket.shutdown();
    }

    @Override
    public void close() {
        socket.close();
    }
}
