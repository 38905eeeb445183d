package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Blocking waits and thread placement through libc: {@code poll} on one fd (a bounded blocking wait, never a
 * polling loop), {@code gettid}, and {@code sched_setaffinity}/{@code sched_getaffinity} of a thread.
 */
public final class Waits {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle POLL = bind("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle GETTID = bind("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SETAFFINITY = bind("sched_setaffinity", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final short POLLIN = 0x1;
    /** {@code struct pollfd}: int fd, short events, short revents. */
    private static final long POLLFD_SIZE = 8;

    private Waits() {}

    private static MethodHandle bind(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new ExceptionInInitializerError("libc symbol " + name + " not found"));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return t instanceof RuntimeException r ? r : new IllegalStateException(t);
    }

    /**
     * Blocks until {@code fd} is readable (data, end of file or an error), at most {@code timeoutMillis};
     * true if it is. EINTR counts as not yet readable.
     */
    public static boolean awaitReadable(int fd, int timeoutMillis) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(POLLFD_SIZE, 4);
            p.set(JAVA_INT, 0, fd);
            p.set(JAVA_SHORT, 4, POLLIN);
            int r = (int) POLL.invokeExact(p, 1L, timeoutMillis);
            return r > 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The calling thread's kernel thread id. */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Pins thread {@code tid} (0: the calling thread) to {@code cpu}; false if the kernel refused. */
    public static boolean pin(int tid, int cpu) {
        if (cpu < 0 || cpu >= 1024) {
            throw new IllegalArgumentException("cpu " + cpu);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(128, 8);
            mask.set(JAVA_LONG, (cpu / 64) * 8L, 1L << (cpu % 64));
            return (int) SETAFFINITY.invokeExact(tid, 128L, mask) == 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
