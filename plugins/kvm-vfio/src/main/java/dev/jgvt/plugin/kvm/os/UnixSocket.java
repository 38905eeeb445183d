package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An {@code AF_UNIX} stream socket with {@code SCM_RIGHTS} fd passing (which the JDK's own UNIX-domain
 * channels cannot do). The {@code msghdr}, {@code iovec}, {@code cmsghdr} and {@code sockaddr_un}
 * layouts are those of x86-64 glibc; control messages are aligned to 8 bytes ({@code CMSG_ALIGN}).
 *
 * <p>Threading: one sender and one receiver may use a socket concurrently; {@link #close()} is idempotent.
 */
public final class UnixSocket implements AutoCloseable {
    /** {@code struct msghdr} (56 bytes). */
    static final StructLayout MSGHDR = MemoryLayout.structLayout(
            ADDRESS.withName("msg_name"),
            JAVA_INT.withName("msg_namelen"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("msg_iov"),
            JAVA_LONG.withName("msg_iovlen"),
            ADDRESS.withName("msg_control"),
            JAVA_LONG.withName("msg_controllen"),
            JAVA_INT.withName("msg_flags"),
            MemoryLayout.paddingLayout(4));
    /** {@code struct iovec} (16 bytes). */
    static final StructLayout IOVEC = MemoryLayout.structLayout(ADDRESS.withName("iov_base"), JAVA_LONG.withName("iov_len"));
    /** {@code struct cmsghdr} header (16 bytes); the data follows. */
    static final StructLayout CMSGHDR = MemoryLayout.structLayout(
            JAVA_LONG.withName("cmsg_len"), JAVA_INT.withName("cmsg_level"), JAVA_INT.withName("cmsg_type"));
    /** {@code struct sockaddr_un} (110 bytes). */
    static final StructLayout SOCKADDR_UN = MemoryLayout.structLayout(
            JAVA_SHORT.withName("sun_family"), MemoryLayout.sequenceLayout(108, JAVA_BYTE).withName("sun_path"));

    static final VarHandle MSG_IOV = field(MSGHDR, "msg_iov");
    static final VarHandle MSG_IOVLEN = field(MSGHDR, "msg_iovlen");
    static final VarHandle MSG_CONTROL = field(MSGHDR, "msg_control");
    static final VarHandle MSG_CONTROLLEN = field(MSGHDR, "msg_controllen");
    static final VarHandle MSG_FLAGS = field(MSGHDR, "msg_flags");
    static final VarHandle IOV_BASE = field(IOVEC, "iov_base");
    static final VarHandle IOV_LEN = field(IOVEC, "iov_len");
    static final VarHandle CMSG_LEN = field(CMSGHDR, "cmsg_len");
    static final VarHandle CMSG_LEVEL = field(CMSGHDR, "cmsg_level");
    static final VarHandle CMSG_TYPE = field(CMSGHDR, "cmsg_type");

    /** The kernel's limit on fds in one SCM_RIGHTS message (SCM_MAX_FD). */
    public static final int MAX_FDS_PER_MESSAGE = 253;
    /** {@code FIONREAD} (= {@code SIOCINQ} for stream sockets). */
    static final long FIONREAD = 0x541B;

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private UnixSocket(int fd) {
        this.fd = fd;
    }

    private static VarHandle field(StructLayout layout, String name) {
        return layout.varHandle(MemoryLayout.PathElement.groupElement(name));
    }

    /** {@code CMSG_ALIGN(n)} on x86-64. */
    static long cmsgAlign(long n) {
        return (n + 7) & ~7L;
    }

    /** {@code CMSG_LEN(n)}. */
    static long cmsgLen(long dataBytes) {
        return CMSGHDR.byteSize() + dataBytes;
    }

    /** {@code CMSG_SPACE(n)}. */
    static long cmsgSpace(long dataBytes) {
        return CMSGHDR.byteSize() + cmsgAlign(dataBytes);
    }

    /** A connected pair ({@code socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)}). */
    public static UnixSocket[] pair() {
        int[] fds = Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        return new UnixSocket[] {new UnixSocket(fds[0]), new UnixSocket(fds[1])};
    }

    /** Connects to a listening socket at {@code path}; a failure names the path. */
    public static UnixSocket connect(Path path) {
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment address = sockaddr(arena, path);
            try {
                Libc.connect(fd, address);
            } catch (GvtException e) {
                throw new GvtException(e.code(), "cannot connect to " + path + ": " + e.getMessage(), e);
            }
            return new UnixSocket(fd);
        } catch (RuntimeException e) {
            Libc.rawClose(fd);
            throw e;
        }
    }

    /** Adopts a connected socket fd (for example one returned by {@link Listener#accept()}). */
    public static UnixSocket adopt(int fd) {
        if (fd < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "socket fd " + fd + " is negative");
        }
        return new UnixSocket(fd);
    }

    static MemorySegment sockaddr(Arena arena, Path path) {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length > 107) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT,
                    "socket path '" + path + "' is " + bytes.length + " bytes; must be 1..107");
        }
        MemorySegment addr = arena.allocate(SOCKADDR_UN);
        addr.set(JAVA_SHORT, 0, (short) Libc.AF_UNIX);
        MemorySegment.copy(bytes, 0, addr, JAVA_BYTE, 2, bytes.length);
        return addr;
    }

    public int fd() {
        return fd;
    }

    /**
     * Sends all of {@code data}; the {@code fds} ride on the first {@code sendmsg} (so on the message's
     * first bytes, as vfio-user requires). Uses {@code MSG_NOSIGNAL}: a closed peer is EPIPE, not a signal.
     */
    public void send(MemorySegment data, int... fds) {
        requireNonNull(data, "data is null");
        if (fds.length > MAX_FDS_PER_MESSAGE) {
            throw new GvtException(ErrorCode.LIMIT_EXCEEDED, fds.length + " fds in one message exceed " + MAX_FDS_PER_MESSAGE);
        }
        if (data.byteSize() == 0 && fds.length > 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "fds need at least one data byte to ride on");
        }
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msg = arena.allocate(MSGHDR);
            MemorySegment iov = arena.allocate(IOVEC);
            MemorySegment payload = data.isNative() ? data : arena.allocate(data.byteSize()).copyFrom(data);
            long sent = 0;
            boolean first = true;
            while (sent < payload.byteSize()) {
                msg.fill((byte) 0);
                MemorySegment rest = payload.asSlice(sent);
                IOV_BASE.set(iov, 0L, rest);
                IOV_LEN.set(iov, 0L, rest.byteSize());
                MSG_IOV.set(msg, 0L, iov);
                MSG_IOVLEN.set(msg, 0L, 1L);
                if (first && fds.length > 0) {
                    long space = cmsgSpace(4L * fds.length);
                    MemorySegment control = arena.allocate(space, 8);
                    CMSG_LEN.set(control, 0L, cmsgLen(4L * fds.length));
                    CMSG_LEVEL.set(control, 0L, Libc.SOL_SOCKET);
                    CMSG_TYPE.set(control, 0L, Libc.SCM_RIGHTS);
                    for (int i = 0; i < fds.length; i++) {
                        control.set(JAVA_INT, CMSGHDR.byteSize() + 4L * i, fds[i]);
                    }
                    MSG_CONTROL.set(msg, 0L, control);
                    MSG_CONTROLLEN.set(msg, 0L, space);
                }
                long r = Libc.rawSendmsg(fd, msg, Libc.MSG_NOSIGNAL);
                Libc.check("sendmsg", r);
                sent += r;
                first = false;
            }
        }
    }

    /** What one {@link #receive} got: the byte count (0 = the peer closed) and the fds that came with it. */
    public record Received(long bytes, int[] fds) {
        public Received {
            fds = fds.clone();
        }

        @Override
        public int[] fds() {
            return fds.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Received r && r.bytes == bytes && Arrays.equals(r.fds, fds);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(bytes) * 31 + Arrays.hashCode(fds);
        }

        @Override
        public String toString() {
            return "Received[bytes=" + bytes + ", fds=" + Arrays.toString(fds) + "]";
        }
    }

    /**
     * One {@code recvmsg} into {@code buf} accepting up to {@code maxFds} fds ({@code MSG_CMSG_CLOEXEC}).
     * With {@code waitAll} the call waits for the whole buffer unless the peer closes. If the kernel
     * truncated the control data ({@code MSG_CTRUNC}) or more than {@code maxFds} fds arrived (the aligned
     * control buffer can hold one more than asked for), every received fd is closed and a
     * {@link ErrorCode#PROTOCOL_ERROR} is thrown.
     */
    public Received receive(MemorySegment buf, int maxFds, boolean waitAll) {
        requireNonNull(buf, "buf is null");
        if (maxFds < 0 || maxFds > MAX_FDS_PER_MESSAGE) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "maxFds " + maxFds + " outside 0.." + MAX_FDS_PER_MESSAGE);
        }
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msg = arena.allocate(MSGHDR);
            MemorySegment iov = arena.allocate(IOVEC);
            MemorySegment target = buf.isNative() ? buf : arena.allocate(buf.byteSize());
            IOV_BASE.set(iov, 0L, target);
            IOV_LEN.set(iov, 0L, target.byteSize());
            MSG_IOV.set(msg, 0L, iov);
            MSG_IOVLEN.set(msg, 0L, 1L);
            MemorySegment control = MemorySegment.NULL;
            if (maxFds > 0) {
                long space = cmsgSpace(4L * maxFds);
                control = arena.allocate(space, 8);
                MSG_CONTROL.set(msg, 0L, control);
                MSG_CONTROLLEN.set(msg, 0L, space);
            }
            int flags = Libc.MSG_CMSG_CLOEXEC | (waitAll ? Libc.MSG_WAITALL : 0);
            long r = Libc.check("recvmsg", Libc.rawRecvmsg(fd, msg, flags));
            int[] fds = maxFds > 0 ? collectFds(control, (long) MSG_CONTROLLEN.get(msg, 0L)) : new int[0];
            int msgFlags = (int) MSG_FLAGS.get(msg, 0L);
            if ((msgFlags & Libc.MSG_CTRUNC) != 0) {
                for (int f : fds) {
                    Libc.rawClose(f);
                }
                throw new GvtException(ErrorCode.PROTOCOL_ERROR,
                        "recvmsg: control data truncated (MSG_CTRUNC): the peer sent more than " + maxFds + " fds");
            }
            if (fds.length > maxFds) {
                // CMSG_SPACE rounds up, so the buffer for an odd count holds one fd more than asked for
                for (int f : fds) {
                    Libc.rawClose(f);
                }
                throw new GvtException(ErrorCode.PROTOCOL_ERROR,
                        "recvmsg: the peer sent " + fds.length + " fds, at most " + maxFds + " accepted");
            }
            if (target != buf) {
                MemorySegment.copy(target, 0, buf, 0, r);
            }
            return new Received(r, fds);
        }
    }

    private static int[] collectFds(MemorySegment control, long controlLen) {
        int[] fds = new int[0];
        long off = 0;
        long limit = Math.min(controlLen, control.byteSize());
        while (off + CMSGHDR.byteSize() <= limit) {
            long len = (long) CMSG_LEN.get(control, off);
            if (len < CMSGHDR.byteSize() || off + len > limit) {
                break;
            }
            int level = (int) CMSG_LEVEL.get(control, off);
            int type = (int) CMSG_TYPE.get(control, off);
            if (level == Libc.SOL_SOCKET && type == Libc.SCM_RIGHTS) {
                int n = (int) ((len - CMSGHDR.byteSize()) / 4);
                int base = fds.length;
                fds = Arrays.copyOf(fds, base + n);
                for (int i = 0; i < n; i++) {
                    fds[base + i] = control.get(JAVA_INT, off + CMSGHDR.byteSize() + 4L * i);
                }
            }
            off += cmsgAlign(len);
        }
        return fds;
    }

    /**
     * Reads exactly {@code buf.byteSize()} bytes (no fds accepted); returns the count, which is smaller
     * only when the peer closed the connection first.
     */
    public long receiveFully(MemorySegment buf) {
        long got = 0;
        while (got < buf.byteSize()) {
            Received r = receive(buf.asSlice(got), 0, true);
            if (r.bytes() == 0) {
                break;
            }
            got += r.bytes();
        }
        return got;
    }

    /** {@code FIONREAD}: how many bytes can be read now without blocking (0 on a closed socket or an error). */
    public int available() {
        if (closed.get()) {
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(JAVA_INT);
            return Libc.rawIoctl(fd, FIONREAD, n) < 0 ? 0 : n.get(JAVA_INT, 0);
        }
    }

    /** Shuts both directions down (wakes a blocked receiver with end of file); errors are ignored. */
    public void shutdown() {
        if (!closed.get()) {
            Libc.rawShutdown(fd, Libc.SHUT_RDWR);
        }
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "socket " + fd + " is closed");
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }

    /** A listening socket bound to a filesystem path; closing it also unlinks the path. */
    public static final class Listener implements AutoCloseable {
        private final int fd;
        private final Path path;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Listener(int fd, Path path) {
            this.fd = fd;
            this.path = path;
        }

        /**
         * Binds {@code path} (which must not exist) and listens with {@code backlog}.
         *
         * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} when the path is what cannot be bound (see
         *     {@link #pathProblem}), {@link ErrorCode#IO_ERROR} for any other failure
         */
        public static Listener bind(Path path, int backlog) {
            requireNonNull(path, "path is null");
            int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
            try (Arena arena = Arena.ofConfined()) {
                int r = Libc.rawBind(fd, sockaddr(arena, path));
                if (r < 0) {
                    String problem = pathProblem(-r);
                    if (problem != null) {
                        throw new GvtException(ErrorCode.INVALID_ARGUMENT, "socket path " + path + " cannot be bound: " + problem
                                + " (" + Errno.name(-r) + ")");
                    }
                    throw Libc.ioError("bind", -r);
                }
                Libc.listen(fd, backlog);
                return new Listener(fd, path);
            } catch (RuntimeException e) {
                Libc.rawClose(fd);
                throw e;
            }
        }

        /** What a bind errno caused by the path means, or null for an errno that is not about the path. */
        static String pathProblem(int errno) {
            return switch (errno) {
                case Errno.ENOENT -> "a directory on the way does not exist or does not take sockets";
                case Errno.EACCES -> "permission denied";
                case Errno.EROFS -> "the file system is read-only";
                case Errno.ENOTDIR -> "a component of the path is not a directory";
                case Errno.EADDRINUSE -> "the address is in use";
                case Errno.ENAMETOOLONG -> "the path is too long";
                default -> null;
            };
        }

        public Path path() {
            return path;
        }

        /** Blocks until a client connects; returns its socket. */
        public UnixSocket accept() {
            if (closed.get()) {
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "listener on " + path + " is closed");
            }
            int client = Libc.rawAccept4(fd, Libc.SOCK_CLOEXEC);
            return new UnixSocket((int) Libc.check("accept4", client));
        }

        /** Closes the socket and unlinks its path; idempotent. */
        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                Libc.rawShutdown(fd, Libc.SHUT_RDWR);
                Libc.rawClose(fd);
                Libc.rawUnlink(path.toString());
            }
        }
    }
}
