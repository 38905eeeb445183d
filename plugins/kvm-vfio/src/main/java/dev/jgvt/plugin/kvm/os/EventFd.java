package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Linux eventfd: an unsigned 64-bit counter; {@link #signal} adds, {@link #read} returns and zeroes it
 * (or, in semaphore mode, returns 1 and decrements). The fd can be handed to another process
 * ({@link UnixSocket#send}) or to KVM/VFIO; all copies share the counter.
 *
 * <p>Threading: safe from any thread; {@link #close()} is idempotent.
 */
public final class EventFd implements AutoCloseable {
    private final int fd;
    private final boolean nonBlocking;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EventFd(int fd, boolean nonBlocking) {
        this.fd = fd;
        this.nonBlocking = nonBlocking;
    }

    /** Creates an eventfd with {@code initval} and {@code flags} ({@link Libc#EFD_SEMAPHORE}, EFD_NONBLOCK, EFD_CLOEXEC). */
    public static EventFd create(int initval, int flags) {
        int fd = Libc.eventfd(initval, flags);
        return new EventFd(fd, (flags & Libc.EFD_NONBLOCK) != 0);
    }

    /** A close-on-exec, non-blocking eventfd starting at 0, the usual choice for interrupts. */
    public static EventFd create() {
        return create(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
    }

    /** Adopts an fd received from elsewhere (for example over SCM_RIGHTS); this object then owns it. */
    public static EventFd adopt(int fd, boolean nonBlocking) {
        if (fd < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "eventfd fd " + fd + " is negative");
        }
        return new EventFd(fd, nonBlocking);
    }

    public int fd() {
        return fd;
    }

    /** Adds {@code value} (1 .. 2^64-2) to the counter. {@code -1} (2^64-1) fails with EINVAL. */
    public void signal(long value) {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(JAVA_LONG);
            buf.set(JAVA_LONG, 0, value);
            long r = Libc.rawWrite(fd, buf, 8);
            Libc.check("write(eventfd)", r);
            if (r != 8) {
                throw new GvtException(ErrorCode.IO_ERROR, "write(eventfd): short write of " + r + " bytes");
            }
        }
    }

    /** Adds 1. */
    public void signal() {
        signal(1);
    }

    /**
     * Reads the counter (normal mode: the value, then zero; semaphore mode: 1, then decrement). Blocks
     * while the counter is 0 on a blocking eventfd; on a non-blocking one, an empty counter fails with
     * EAGAIN (use {@link #tryRead()} instead).
     */
    public long read() {
        OptionalLong v = readInternal();
        if (v.isEmpty()) {
            throw Libc.ioError("read(eventfd)", Errno.EAGAIN);
        }
        return v.getAsLong();
    }

    /** Reads the counter if it is non-zero; empty when it is zero (EAGAIN). Only for non-blocking eventfds. */
    public OptionalLong tryRead() {
        if (!nonBlocking) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "tryRead on a blocking eventfd (fd " + fd + ") would block");
        }
        return readInternal();
    }

    private OptionalLong readInternal() {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(JAVA_LONG);
            long r = Libc.rawRead(fd, buf, 8);
            if (r == -Errno.EAGAIN) {
                return OptionalLong.empty();
            }
            Libc.check("read(eventfd)", r);
            if (r != 8) {
                throw new GvtException(ErrorCode.IO_ERROR, "read(eventfd): short read of " + r + " bytes");
            }
            return OptionalLong.of(buf.get(JAVA_LONG, 0));
        }
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "eventfd " + fd + " is closed");
        }
    }

    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return "EventFd[fd=" + fd + (closed.get() ? ", closed" : "") + "]";
    }
}
