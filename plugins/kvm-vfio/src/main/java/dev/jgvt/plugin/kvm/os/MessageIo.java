package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
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
    private final UnixSocket socket;
    private final int maxFds;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment recvMsg;
    private final MemorySegment recvIov;
    private final MemorySegment control;
    private final MemorySegment sendMsg;
    private final MemorySegment sendIov;
    private final int[] fds;
    private int fdCount;
    /** errno of the receive half and of the send half (each used by one thread at a time). */
    private final MemorySegment recvErrno;
    private final MemorySegment sendErrno;

    /** @param maxFds fds accepted per {@link #receive}; more (or {@code MSG_CTRUNC}) is a PROTOCOL_ERROR */
    public MessageIo(UnixSocket socket, int maxFds) {
        this.socket = requireNonNull(socket, "socket is null");
        if (maxFds < 0 || maxFds > UnixSocket.MAX_FDS_PER_MESSAGE) {
            throw new IllegalArgumentException("maxFds " + maxFds);
        }
        this.maxFds = maxFds;
        this.recvMsg = arena.allocate(UnixSocket.MSGHDR);
        this.recvIov = arena.allocate(UnixSocket.IOVEC);
        this.control = arena.allocate(UnixSocket.cmsgSpace(4L * Math.max(1, maxFds)), 8);
        this.sendMsg = arena.allocate(UnixSocket.MSGHDR);
        this.sendIov = arena.allocate(UnixSocket.IOVEC);
        this.fds = new int[maxFds + 1];
        this.recvErrno = Libc.captureSegment(arena);
        this.sendErrno = Libc.captureSegment(arena);
        UnixSocket.MSG_IOV.set(recvMsg, 0L, recvIov);
        UnixSocket.MSG_IOVLEN.set(recvMsg, 0L, 1L);
        if (maxFds > 0) {
            UnixSocket.MSG_CONTROL.set(recvMsg, 0L, control);
        }
        UnixSocket.MSG_IOV.set(sendMsg, 0L, sendIov);
        UnixSocket.MSG_IOVLEN.set(sendMsg, 0L, 1L);
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
        fdCount = 0;
        // the msghdr's pointers were set once; per call only the buffer, its length and the in/out fields
        recvIov.set(JAVA_LONG, 0, buf.address() + offset);
        recvIov.set(JAVA_LONG, 8, length);
        recvMsg.set(JAVA_LONG, CONTROLLEN_OFFSET, maxFds > 0 ? control.byteSize() : 0L);
        recvMsg.set(JAVA_INT, FLAGS_OFFSET, 0);
        return poll > 0 ? Libc.rawRecvmsgNow(socket.fd(), recvMsg, Libc.MSG_CMSG_CLOEXEC, recvErrno)
                : Libc.rawRecvmsg(socket.fd(), recvMsg, Libc.MSG_CMSG_CLOEXEC, recvErrno);
    }

    private long received(long r) {
        long controlLen = (long) UnixSocket.MSG_CONTROLLEN.get(recvMsg, 0L);
        if (maxFds > 0 && controlLen > 0) {
            collect(Math.min(controlLen, control.byteSize()));
        }
        int msgFlags = (int) UnixSocket.MSG_FLAGS.get(recvMsg, 0L);
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
            long len = (long) UnixSocket.CMSG_LEN.get(control, off);
            if (len < hdr || off + len > limit) {
                break;
            }
            if ((int) UnixSocket.CMSG_LEVEL.get(control, off) == Libc.SOL_SOCKET
                    && (int) UnixSocket.CMSG_TYPE.get(control, off) == Libc.SCM_RIGHTS) {
                int n = (int) ((len - hdr) / 4);
                for (int i = 0; i < n; i++) {
                    int fd = control.get(JAVA_INT, off + hdr + 4L * i);
                    if (fdCount < fds.length) {
                        fds[fdCount] = fd;
                    } else {
                        Libc.rawClose(fd);
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
        long sent = 0;
        while (sent < length) {
            sendIov.set(JAVA_LONG, 0, buf.address() + offset + sent);
            sendIov.set(JAVA_LONG, 8, length - sent);
            // first without blocking and without the native-call transition (a reply fits the socket buffer of
            // a client that reads its replies); a full buffer falls back to the blocking call
            long n = Libc.rawSendmsgNow(socket.fd(), sendMsg, Libc.MSG_NOSIGNAL, sendErrno);
            if (n == -Errno.EAGAIN) {
                n = Libc.rawSendmsg(socket.fd(), sendMsg, Libc.MSG_NOSIGNAL);
            }
            sent += Libc.check("sendmsg", n);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
