package dev.jgvt.cli;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;

/**
 * The baseline for ELSP-to-MSI latency: a round trip between two threads through two Linux eventfds (thread A
 * writes the first, thread B blocked in {@code read} wakes and writes the second, A blocked in {@code read} wakes),
 * both threads pinned to one CPU with {@code sched_setaffinity}, so each hop is a wake-up and a context switch on
 * that CPU — what delivering an MSI through an eventfd to a waiting thread costs, twice. Through FFM, as the
 * kvm-vfio plugin signals MSIs.
 */
final class EventFdRoundTrip {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MethodHandle EVENTFD = handle("eventfd",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle READ = handle("read",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle WRITE = handle("write",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SET_AFFINITY = handle("sched_setaffinity",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));

    private EventFdRoundTrip() {}

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new IllegalStateException("no " + name + " in libc")),
                descriptor);
    }

    /**
     * Measures {@code count} round trips (after {@code count / 4} unmeasured ones) with both threads on
     * {@code cpu}; returns each round trip's nanoseconds, sorted.
     */
    static long[] measure(int cpu, int count) throws InterruptedException {
        int ping = eventfd();
        int pong = eventfd();
        int warmup = count / 4;
        long[] nanos = new long[count];
        Throwable[] failure = new Throwable[1];
        try {
            Thread echo = Thread.ofPlatform().daemon().name("eventfd-echo").start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
                    pin(cpu, arena);
                    for (int i = 0; i < warmup + count; i++) {
                        transfer(READ, ping, value);
                        value.set(ValueLayout.JAVA_LONG, 0, 1);
                        transfer(WRITE, pong, value);
                    }
                } catch (Throwable t) {
                    failure[0] = t;
                }
            });
            Thread caller = Thread.ofPlatform().daemon().name("eventfd-caller").start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
                    pin(cpu, arena);
                    for (int i = 0; i < warmup + count; i++) {
                        long t0 = System.nanoTime();
                        value.set(ValueLayout.JAVA_LONG, 0, 1);
                        transfer(WRITE, ping, value);
                        transfer(READ, pong, value);
                        if (i >= warmup) {
                            nanos[i - warmup] = System.nanoTime() - t0;
                        }
                    }
                } catch (Throwable t) {
                    failure[0] = t;
                }
            });
            caller.join(60_000);
            echo.join(1_000);
            if (failure[0] != null || caller.isAlive()) {
                throw new GvtException(ErrorCode.INTERNAL, "eventfd round trips failed: "
                        + (failure[0] == null ? "timed out" : failure[0].toString()));
            }
        } finally {
            close(ping);
            close(pong);
        }
        Arrays.sort(nanos);
        return nanos;
    }

    private static int eventfd() {
        try {
            int fd = (int) EVENTFD.invokeExact(0, 0);
            if (fd < 0) {
                throw new GvtException(ErrorCode.INTERNAL, "eventfd failed");
            }
            return fd;
        } catch (GvtException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void transfer(MethodHandle op, int fd, MemorySegment value) throws Throwable {
        long n = (long) op.invokeExact(fd, value, 8L);
        if (n != 8) {
            throw new GvtException(ErrorCode.INTERNAL, "eventfd transfer returned " + n);
        }
    }

    /** Pins the calling thread to {@code cpu}. */
    static void pin(int cpu, Arena arena) throws Throwable {
        MemorySegment mask = arena.allocate(128);
        mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
        int rc = (int) SET_AFFINITY.invokeExact(0, 128L, mask);
        if (rc != 0) {
            throw new GvtException(ErrorCode.INTERNAL, "sched_setaffinity to cpu " + cpu + " failed");
        }
    }

    private static void close(int fd) {
        try {
            int rc = (int) CLOSE.invokeExact(fd);
            assert rc == 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
