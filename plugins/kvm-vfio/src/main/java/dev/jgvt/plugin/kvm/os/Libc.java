package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc calls this plugin needs, bound through FFM with {@code errno} captured per call. Two levels:
 * {@code raw*} methods return the result or {@code -errno} (kernel style, no allocation, EINTR retried),
 * the others throw {@link GvtException} with {@link ErrorCode#IO_ERROR} and a message of the form
 * {@code "<call>: <ENAME> (errno N)"}. x86-64 Linux only.
 *
 * <p>Threading: every method is safe from any thread (errno is captured into a per-thread segment).
 */
public final class Libc {
    public static final int EFD_SEMAPHORE = 1;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;
    public static final int MFD_CLOEXEC = 1;
    public static final int MFD_ALLOW_SEALING = 2;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SCM_RIGHTS = 1;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_WAITALL = 0x100;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int SHUT_RDWR = 2;
    public static final int O_RDWR = 2;
    public static final int O_CLOEXEC = 0x80000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private static final MethodHandle EVENTFD = bind("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = bind("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = bind("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle MEMFD_CREATE = bind("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE = bind("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MMAP = bind("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = bind("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle SOCKET = bind("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = bind("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle BIND = bind("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = bind("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = bind("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = bind("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDMSG = bind("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = bind("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    /*
     * The trap path's recvmsg and sendmsg go through syscall(2) rather than glibc's wrappers: in a multi-threaded
     * process those are cancellation points and wrap the system call in two atomic updates of the thread's
     * cancellation state (which the JVM never uses).
     */
    private static final long SYS_SENDMSG = 46;
    private static final long SYS_RECVMSG = 47;
    /*
     * The msghdr is passed as a number (its address), not as a segment: a segment argument of a shared arena is
     * kept alive across the call with two atomic updates of its session, and the callers (MessageIo) own the
     * msghdr's memory and never free it while a call is in flight.
     */
    private static final FunctionDescriptor SYSCALL_MSG = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** recvmsg/sendmsg through syscall(2), errno captured; may block. */
    private static final MethodHandle MSG_CALL = LINKER.downcallHandle(LINKER.defaultLookup().find("syscall").orElseThrow(),
            SYSCALL_MSG, Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
    /**
     * The same without errno: the trap path's first try. A recvmsg or sendmsg that fails moves no bytes, so the
     * caller repeats a failed call with errno captured ({@link #MSG_CALL}) and keeps that call's result: the common
     * call then skips the capture (a call into the JVM and glibc's errno lookup after every system call).
     */
    private static final MethodHandle MSG_CALL_BARE = LINKER.downcallHandle(LINKER.defaultLookup().find("syscall").orElseThrow(),
            SYSCALL_MSG, Linker.Option.firstVariadicArg(1));
    /** {@link #MSG_CALL_BARE} as a critical call (no thread-state transition); only with MSG_DONTWAIT. */
    private static final MethodHandle MSG_CALL_BARE_CRITICAL = LINKER.downcallHandle(LINKER.defaultLookup().find("syscall").orElseThrow(),
            SYSCALL_MSG, Linker.Option.firstVariadicArg(1), Linker.Option.critical(false));
    /**
     * The same as a critical call (no Java-to-native thread-state transition), only ever with MSG_DONTWAIT so that
     * it cannot block: the reply of a few dozen bytes to a client that reads its replies, the serving thread's poll.
     */
    private static final MethodHandle MSG_CALL_CRITICAL = LINKER.downcallHandle(LINKER.defaultLookup().find("syscall").orElseThrow(),
            SYSCALL_MSG, Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1), Linker.Option.critical(false));
    private static final MethodHandle SHUTDOWN = bind("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle UNLINK = bind("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle OPEN = bindVariadic("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    /** ioctl(int, unsigned long, ...) with a pointer argument. */
    private static final MethodHandle IOCTL_PTR = bindVariadic("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
    /** ioctl(int, unsigned long, ...) with a value argument. */
    private static final MethodHandle IOCTL_VAL = bindVariadic("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    private static final MethodHandle LSEEK = bind("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle PREAD = bind("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));

    private Libc() {}

    private static MethodHandle bind(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new ExceptionInInitializerError("libc symbol " + name + " not found"));
        return LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"));
    }

    private static MethodHandle bindVariadic(String name, FunctionDescriptor descriptor, int firstVariadic) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new ExceptionInInitializerError("libc symbol " + name + " not found"));
        return LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"),
                Linker.Option.firstVariadicArg(firstVariadic));
    }

    private static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /** {@code <call>: <ENAME> (errno N)} as an IO_ERROR. */
    public static GvtException ioError(String call, int errno) {
        return new GvtException(ErrorCode.IO_ERROR, call + ": " + Errno.name(errno) + " (errno " + errno + ")");
    }

    /** Throws {@link #ioError} when {@code result} is negative (a {@code -errno}); returns it otherwise. */
    public static long check(String call, long result) {
        if (result < 0) {
            throw ioError(call, (int) -result);
        }
        return result;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new GvtException(ErrorCode.INTERNAL, "native call failed: " + t, t);
    }

    // ---- raw calls: result or -errno --------------------------------------------------------------

    public static int rawEventfd(int initval, int flags) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) EVENTFD.invokeExact(c, initval, flags);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long rawRead(int fd, MemorySegment buf, long count) {
        MemorySegment c = CAPTURE.get();
        try {
            while (true) {
                long r = (long) READ.invokeExact(c, fd, buf, count);
                if (r >= 0) {
                    return r;
                }
                int e = errno(c);
                if (e != Errno.EINTR) {
                    return -e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long rawWrite(int fd, MemorySegment buf, long count) {
        MemorySegment c = CAPTURE.get();
        try {
            while (true) {
                long r = (long) WRITE.invokeExact(c, fd, buf, count);
                if (r >= 0) {
                    return r;
                }
                int e = errno(c);
                if (e != Errno.EINTR) {
                    return -e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long rawPread(int fd, MemorySegment buf, long count, long offset) {
        MemorySegment c = CAPTURE.get();
        try {
            long r = (long) PREAD.invokeExact(c, fd, buf, count, offset);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int rawClose(int fd) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) CLOSE.invokeExact(c, fd);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long rawSendmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment c = CAPTURE.get();
        try {
            while (true) {
                long r = (long) SENDMSG.invokeExact(c, fd, msghdr, flags);
                if (r >= 0) {
                    return r;
                }
                int e = errno(c);
                if (e != Errno.EINTR) {
                    return -e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A segment for the errno of the raw calls that take one (one per thread that uses it). */
    public static MemorySegment captureSegment(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    /**
     * {@code sendmsg(fd, msghdr, flags | MSG_DONTWAIT)} (the {@code msghdr} at that address) without the
     * native-call transition; returns the byte count or -errno ({@code -EAGAIN} when the socket buffer is full: the
     * caller then sends with {@link #rawSendmsg}, which may block), the errno of a failed call found by repeating it
     * with the errno captured in {@code capture}. Never blocks.
     */
    public static long rawSendmsgNow(int fd, long msghdr, int flags, MemorySegment capture) {
        try {
            long first = (long) MSG_CALL_BARE_CRITICAL.invokeExact(SYS_SENDMSG, (long) fd, msghdr, (long) (flags | MSG_DONTWAIT));
            if (first >= 0) {
                return first;
            }
            return capturedMsgCall(true, SYS_SENDMSG, fd, msghdr, flags | MSG_DONTWAIT, capture);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code recvmsg(fd, msghdr, flags | MSG_DONTWAIT)} without the native-call transition, errno in {@code capture};
     * returns the byte count or -errno ({@code -EAGAIN} when nothing is there). Never blocks.
     */
    public static long rawRecvmsgNow(int fd, long msghdr, int flags, MemorySegment capture) {
        try {
            return capturedMsgCall(true, SYS_RECVMSG, fd, msghdr, flags | MSG_DONTWAIT, capture);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@link #rawRecvmsg(int, MemorySegment, int)} of the {@code msghdr} at that address, through syscall(2) (not a
     * cancellation point); may block. The errno of a failed call is found by repeating it with the errno captured in
     * {@code capture} (no thread-local lookup); that call's result is returned.
     */
    public static long rawRecvmsg(int fd, long msghdr, int flags, MemorySegment capture) {
        try {
            long first = (long) MSG_CALL_BARE.invokeExact(SYS_RECVMSG, (long) fd, msghdr, (long) flags);
            if (first >= 0) {
                return first;
            }
            return capturedMsgCall(false, SYS_RECVMSG, fd, msghdr, flags, capture);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * recvmsg/sendmsg ({@code nr}) through syscall(2) with errno captured in {@code capture}, repeated on EINTR;
     * the byte count or -errno. {@code critical}: without the native-call transition (only with MSG_DONTWAIT).
     */
    private static long capturedMsgCall(boolean critical, long nr, int fd, long msghdr, int flags, MemorySegment capture)
            throws Throwable {
        while (true) {
            long r = critical
                    ? (long) MSG_CALL_CRITICAL.invokeExact(capture, nr, (long) fd, msghdr, (long) flags)
                    : (long) MSG_CALL.invokeExact(capture, nr, (long) fd, msghdr, (long) flags);
            if (r >= 0) {
                return r;
            }
            int e = errno(capture);
            if (e != Errno.EINTR) {
                return -e;
            }
        }
    }

    public static long rawRecvmsg(int fd, MemorySegment msghdr, int flags) {
        MemorySegment c = CAPTURE.get();
        try {
            while (true) {
                long r = (long) RECVMSG.invokeExact(c, fd, msghdr, flags);
                if (r >= 0) {
                    return r;
                }
                int e = errno(c);
                if (e != Errno.EINTR) {
                    return -e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- throwing calls ---------------------------------------------------------------------------

    /** {@code eventfd(initval, flags)}; returns the new fd. */
    public static int eventfd(int initval, int flags) {
        return (int) check("eventfd", rawEventfd(initval, flags));
    }

    /** Reads up to {@code buf.byteSize()} bytes; returns the count (0 at end of file). */
    public static long read(int fd, MemorySegment buf) {
        return check("read", rawRead(fd, buf, buf.byteSize()));
    }

    /** Writes up to {@code buf.byteSize()} bytes; returns the count. */
    public static long write(int fd, MemorySegment buf) {
        return check("write", rawWrite(fd, buf, buf.byteSize()));
    }

    /** Reads up to {@code buf.byteSize()} bytes at file offset {@code offset}. */
    public static long pread(int fd, MemorySegment buf, long offset) {
        return check("pread", rawPread(fd, buf, buf.byteSize(), offset));
    }

    /** Closes {@code fd}; an error (EBADF) is thrown. */
    public static void close(int fd) {
        check("close", rawClose(fd));
    }

    /** {@code memfd_create(name, flags)}; returns the new fd. */
    public static int memfdCreate(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(CAPTURE_LAYOUT);
            int r = (int) MEMFD_CREATE.invokeExact(c, arena.allocateFrom(name), flags);
            return (int) check("memfd_create", r < 0 ? -errno(c) : r);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ftruncate(fd, length)}. */
    public static void ftruncate(int fd, long length) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) FTRUNCATE.invokeExact(c, fd, length);
            check("ftruncate", r < 0 ? -errno(c) : r);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code mmap(NULL, length, prot, flags, fd, offset)}; returns the address as a zero-length segment. */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
        MemorySegment c = CAPTURE.get();
        try {
            MemorySegment r = (MemorySegment) MMAP.invokeExact(c, MemorySegment.NULL, length, prot, flags, fd, offset);
            if (r.address() == -1L) {
                throw ioError("mmap", errno(c));
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code mmap(NULL, length, prot, flags, fd, offset)}; returns the address, or {@code -errno} on failure. */
    public static long rawMmap(long length, int prot, int flags, int fd, long offset) {
        MemorySegment c = CAPTURE.get();
        try {
            MemorySegment r = (MemorySegment) MMAP.invokeExact(c, MemorySegment.NULL, length, prot, flags, fd, offset);
            return r.address() == -1L ? -errno(c) : r.address();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code lseek(fd, 0, SEEK_END)}: the file's size, or {@code -errno}. */
    public static long rawFileSize(int fd) {
        MemorySegment c = CAPTURE.get();
        try {
            long r = (long) LSEEK.invokeExact(c, fd, 0L, 2);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code munmap(address, length)}; returns 0 or {@code -errno}. */
    public static int rawMunmap(long address, long length) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) MUNMAP.invokeExact(c, MemorySegment.ofAddress(address), length);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code socket(domain, type, protocol)}. */
    public static int socket(int domain, int type, int protocol) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) SOCKET.invokeExact(c, domain, type, protocol);
            return (int) check("socket", r < 0 ? -errno(c) : r);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code socketpair(domain, type, protocol, sv)}; returns both fds. */
    public static int[] socketpair(int domain, int type, int protocol) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(CAPTURE_LAYOUT);
            MemorySegment sv = arena.allocate(JAVA_INT, 2);
            int r = (int) SOCKETPAIR.invokeExact(c, domain, type, protocol, sv);
            check("socketpair", r < 0 ? -errno(c) : r);
            return new int[] {sv.getAtIndex(JAVA_INT, 0), sv.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code bind(fd, addr, len)}. */
    public static void bind(int fd, MemorySegment addr) {
        check("bind", rawBind(fd, addr));
    }

    /** {@code bind(fd, addr, len)}: 0 or {@code -errno}. */
    public static int rawBind(int fd, MemorySegment addr) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) BIND.invokeExact(c, fd, addr, (int) addr.byteSize());
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code connect(fd, addr, len)}, retried on EINTR. */
    public static void connect(int fd, MemorySegment addr) {
        MemorySegment c = CAPTURE.get();
        try {
            while (true) {
                int r = (int) CONNECT.invokeExact(c, fd, addr, (int) addr.byteSize());
                if (r == 0) {
                    return;
                }
                int e = errno(c);
                if (e != Errno.EINTR) {
                    throw ioError("connect", e);
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code listen(fd, backlog)}. */
    public static void listen(int fd, int backlog) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) LISTEN.invokeExact(c, fd, backlog);
            check("listen", r < 0 ? -errno(c) : r);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code accept4(fd, NULL, NULL, flags)}; returns the new fd or {@code -errno} (EINTR retried). */
    public static int rawAccept4(int fd, int flags) {
        MemorySegment c = CAPTURE.get();
        try {
            while (true) {
                int r = (int) ACCEPT4.invokeExact(c, fd, MemorySegment.NULL, MemorySegment.NULL, flags);
                if (r >= 0) {
                    return r;
                }
                int e = errno(c);
                if (e != Errno.EINTR) {
                    return -e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code shutdown(fd, how)}; returns 0 or {@code -errno}. */
    public static int rawShutdown(int fd, int how) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) SHUTDOWN.invokeExact(c, fd, how);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code open(path, flags, 0)}; returns the fd or {@code -errno} (EINTR retried). */
    public static int rawOpen(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(CAPTURE_LAYOUT);
            MemorySegment p = arena.allocateFrom(path);
            while (true) {
                int r = (int) OPEN.invokeExact(c, p, flags, 0);
                if (r >= 0) {
                    return r;
                }
                int e = errno(c);
                if (e != Errno.EINTR) {
                    return -e;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ioctl(fd, request, arg)} with a pointer argument; returns the result or {@code -errno}. */
    public static int rawIoctl(int fd, long request, MemorySegment arg) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) IOCTL_PTR.invokeExact(c, fd, request, arg);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ioctl(fd, request, value)} with a value argument; returns the result or {@code -errno}. */
    public static int rawIoctl(int fd, long request, long value) {
        MemorySegment c = CAPTURE.get();
        try {
            int r = (int) IOCTL_VAL.invokeExact(c, fd, request, value);
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code unlink(path)}; returns 0 or {@code -errno}. */
    public static int rawUnlink(String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(CAPTURE_LAYOUT);
            int r = (int) UNLINK.invokeExact(c, arena.allocateFrom(path));
            return r < 0 ? -errno(c) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
