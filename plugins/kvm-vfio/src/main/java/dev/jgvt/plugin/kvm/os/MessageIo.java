package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.util.Objects.checkFromIndexSize;
import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@code recvmsg}/{@code sendmsg} on one {@link UnixSocket} with the {@code msghdr}, {@code iovec} and control
 * buffers allocated once: no allocation per call (the hot path of a vfio-user server). The receive half and
 * the send half each belong to one thread at a time (callers serialise them; they may run concurrently).
 */
public final class MessageIo implements AutoCloseable {
    private static final long CONTROLLEN_OFFSET =
            UnixSocket.MSGHDR.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("msg_controllen"));
    private static final long FLAGS_OFFSET =
            UnixSocket.MSGHDR.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("msg_flags"));
    // One block holds everything a receive and a send touch, so that a small message costs a few cache lines:
    // the receive msghdr and iovec, the send msghdr and iovec, a small send area, the errno captures, the control buffer.
    private static final long RECV_MSG = 0;
    private static final long RECV_IOV = RECV_MSG + UnixSocket.MSGHDR.byteSize();
    private static final long SEND_MSG = RECV_IOV + UnixSocket.IOVEC.byteSize();
    private static final long SEND_IOV = SEND_MSG + UnixSocket.MSGHDR.byteSize();
    private static final long SEND_AREA = SEND_IOV + UnixSocket.IOVEC.byteSize();
    /** The size of {@link #sendArea()}. */
    public static final int SEND_AREA_SIZE = 64;
    private static final long RECV_ERRNO = SEND_AREA + SEND_AREA_SIZE;
    private static final long SEND_ERRNO = RECV_ERRNO + 16;
    private static final long CONTROL = SEND_ERRNO + 16;

    private final UnixSocket socket;
    private final int fd;
    private final int maxFds;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment block;
    /** The address of {@link #block} (the system calls take the msghdrs by address). */
    private final long base;
    private final long controlSize;
    private final MemorySegment sendArea;
    private final int[] fds;
    private int fdCount;
    /** errno of the receive half and of the send half (each used by one thread at a time). */
    private final MemorySegment recvErrno;
    private final MemorySegment sendErrno;
    private final MemorySegment sendMsg;
    private boolean closed;

    /** @param maxFds fds accepted per {@link #receive}; more (or {@code MSG_CTRUNC}) is a PROTOCOL_ERROR */
    public MessageIo(UnixSocket socket, int maxFds) {
        this.socket = requireNonNull(socket, "socket is null");
        if (maxFds < 0 || maxFds > UnixSocket.MAX_FDS_PER_MESSAGE) {
            throw new IllegalArgumentException("maxFds " + maxFds);
        }
        if (Libc.captureSegment(arena).byteSize() > SEND_ERRNO - RECV_ERRNO) {
            throw new IllegalStateException("the errno capture state does not fit its slot");
        }
        this.fd = socket.fd();
        this.maxFds = maxFds;
        this.controlSize = UnixSocket.cmsgSpace(4L * Math.max(1, maxFds));
        this.block = arena.allocate(CONTROL + controlSize, 64);
        this.base = block.address();
        this.sendArea = block.asSlice(SEND_AREA, SEND_AREA_SIZE);
        this.recvErrno = block.asSlice(RECV_ERRNO, SEND_ERRNO - RECV_ERRNO);
        this.sendErrno = block.asSlice(SEND_ERRNO, CONTROL - SEND_ERRNO);
        this.sendMsg = block.asSlice(SEND_MSG, UnixSocket.MSGHDR.byteSize());
        this.fds = new int[maxFds + 1];
        UnixSocket.MSG_IOV.set(block, RECV_MSG, block.asSlice(RECV_IOV, UnixSocket.IOVEC.byteSize()));
        UnixSocket.MSG_IOVLEN.set(block, RECV_MSG, 1L);
        if (maxFds > 0) {
            UnixSocket.MSG_CONTROL.set(block, RECV_MSG, block.asSlice(CONTROL, controlSize));
        }
        UnixSocket.MSG_IOV.set(block, SEND_MSG, block.asSlice(SEND_IOV, UnixSocket.IOVEC.byteSize()));
        UnixSocket.MSG_IOVLEN.set(block, SEND_MSG, 1L);
    }

    /**
     * A reusable area of {@link #SEND_AREA_SIZE} bytes next to the send msghdr, for the small messages of the thread
     * that sends most (valid until {@link #close}; the caller serialises its use like the send half).
     */
    public MemorySegment sendArea() {
        return sendArea;
    }

    /**
     * One {@code recvmsg} (without {@code MSG_WAITALL}) of at most {@code length} bytes into {@code buf} at
     * {@code offset} ({@code buf} must be native). Returns the byte count, 0 when the peer closed; the fds
     * that came with the bytes are then {@link #fdCount()} / {@link #fd(int)} (owned by the caller).
     */
    public long receive(MemorySegment buf, long offset, long length) {
        return received(Libc.check("recvmsg", receiveRaw(buf, offset, length, 0L)));
    }

    /**
     * Waits for bytes by polling: non-blocking {@code recvmsg} calls (critical, no thread-state transition) for at
     * most {@code pollNanos}, then the blocking {@link #receive}. The same result as {@link #receive}.
     */
    public long receive(MemorySegment buf, long offset, long length, long pollNanos) {
        if (pollNanos <= 0) {
            return receive(buf, offset, length);
        }
        long deadline = System.nanoTime() + pollNanos;
        while (true) {
            long r = receiveRaw(buf, offset, length, pollNanos);
            if (r != -Errno.EAGAIN) {
                return received(Libc.check("recvmsg", r));
            }
            if (System.nanoTime() - deadline >= 0) {
                return receive(buf, offset, length);
            }
            Thread.onSpinWait();
        }
    }

    private long receiveRaw(MemorySegment buf, long offset, long length, long poll) {
        ensureOpen();
        checkFromIndexSize(offset, length, buf.byteSize());
        fdCount = 0;
        // the msghdr's pointers were set once; per call only the buffer, its length and the in/out fields
        block.set(JAVA_LONG, RECV_IOV, buf.address() + offset);
        block.set(JAVA_LONG, RECV_IOV + 8, length);
        block.set(JAVA_LONG, RECV_MSG + CONTROLLEN_OFFSET, maxFds > 0 ? controlSize : 0L);
        block.set(JAVA_INT, RECV_MSG + FLAGS_OFFSET, 0);
        return poll > 0 ? Libc.rawRecvmsgNow(fd, base + RECV_MSG, Libc.MSG_CMSG_CLOEXEC, recvErrno)
                : Libc.rawRecvmsg(fd, base + RECV_MSG, Libc.MSG_CMSG_CLOEXEC, recvErrno);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the message I/O of fd " + fd + " is closed");
        }
    }

    private long received(long r) {
        long controlLen = block.get(JAVA_LONG, RECV_MSG + CONTROLLEN_OFFSET);
        if (maxFds > 0 && controlLen > 0) {
            collect(Math.min(controlLen, controlSize));
        }
        int msgFlags = block.get(JAVA_INT, RECV_MSG + FLAGS_OFFSET);
        if ((msgFlags & Libc.MSG_CTRUNC) != 0 || fdCount > maxFds) {
            closeFds();
            throw new GvtException(ErrorCode.PROTOCOL_ERROR, "recvmsg: the peer sent more than " + maxFds + " fds with one message");
        }
        return r;
    }

    private void collect(long limit) {
        long hdr = UnixSocket.CMSGHDR.byteSize();
        long off = 0;
        while (off + hdr <= limit) {
            long len = (long) UnixSocket.CMSG_LEN.get(block, CONTROL + off);
            if (len < hdr || off + len > limit) {
                break;
            }
            if ((int) UnixSocket.CMSG_LEVEL.get(block, CONTROL + off) == Libc.SOL_SOCKET
                    && (int) UnixSocket.CMSG_TYPE.get(block, CONTROL + off) == Libc.SCM_RIGHTS) {
                int n = (int) ((len - hdr) / 4);
                for (int i = 0; i < n; i++) {
                    int got = block.get(JAVA_INT, CONTROL + off + hdr + 4L * i);
                    if (fdCount < fds.length) {
                        fds[fdCount] = got;
                    } else {
                        Libc.rawClose(got);
                    }
                    fdCount++;
                }
            }
            off += UnixSocket.cmsgAlign(len);
        }
        fdCount = Math.min(fdCount, fds.length);
    }

    /** fds received by the last {@link #receive}. */
    public int fdCount() {
        return fdCount;
    }

    public int fd(int i) {
        if (i < 0 || i >= fdCount) {
            throw new IndexOutOfBoundsException(i);
        }
        return fds[i];
    }

    private void closeFds() {
        for (int i = 0; i < fdCount; i++) {
            Libc.rawClose(fds[i]);
        }
        fdCount = 0;
    }

    /** Sends {@code length} bytes of {@code buf} (native) from {@code offset}, without fds; loops on short writes. */
    public void send(MemorySegment buf, long offset, long length) {
        ensureOpen();
        checkFromIndexSize(offset, length, buf.byteSize());
        long sent = 0;
        while (sent < length) {
            block.set(JAVA_LONG, SEND_IOV, buf.address() + offset + sent);
            block.set(JAVA_LONG, SEND_IOV + 8, length - sent);
            // first without blocking and without the native-call transition (a reply fits the socket buffer of
            // a client that reads its replies); a full buffer falls back to the blocking call
            long n = Libc.rawSendmsgNow(fd, base + SEND_MSG, Libc.MSG_NOSIGNAL, sendErrno);
            if (n == -Errno.EAGAIN) {
                n = Libc.rawSendmsg(fd, sendMsg, Libc.MSG_NOSIGNAL);
            }
            sent += Libc.check("sendmsg", n);
        }
    }

    /** Frees the buffers; the caller makes sure that neither half is in a call (later calls fail). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
