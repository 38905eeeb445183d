package dev.jgvt.guest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dword-granular access to guest RAM through the platform (little-endian, like the GPU's view of memory). The
 * values of an access pass through a per-thread scratch buffer (grown on demand, never freed), as a guest CPU's
 * stores pass through its registers: an access allocates no native memory.
 */
final class Ram {
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Ram() {}

    /** One thread's scratch buffer. */
    private static final class Scratch {
        MemorySegment segment = Arena.ofAuto().allocate(4096, 8);

        MemorySegment take(long bytes) {
            if (segment.byteSize() < bytes) {
                segment = Arena.ofAuto().allocate(Math.max(bytes, 2 * segment.byteSize()), 8);
            }
            return segment.asSlice(0, bytes);
        }
    }

    static void writeInts(GuestPlatform platform, long gpa, int[] values) {
        writeInts(platform, gpa, values, values.length);
    }

    /** Writes the first {@code count} of {@code values}. */
    static void writeInts(GuestPlatform platform, long gpa, int[] values, int count) {
        if (count == 0) {
            return;
        }
        MemorySegment buf = SCRATCH.get().take(4L * count);
        MemorySegment.copy(values, 0, buf, LE_INT, 0, count);
        platform.ramWrite(gpa, buf);
    }

    static void writeInt(GuestPlatform platform, long gpa, int value) {
        MemorySegment buf = SCRATCH.get().take(4);
        buf.set(LE_INT, 0, value);
        platform.ramWrite(gpa, buf);
    }

    static int[] readInts(GuestPlatform platform, long gpa, int count) {
        int[] values = new int[count];
        readInts(platform, gpa, values);
        return values;
    }

    /** Reads {@code values.length} dwords into {@code values}. */
    static void readInts(GuestPlatform platform, long gpa, int[] values) {
        if (values.length == 0) {
            return;
        }
        MemorySegment buf = SCRATCH.get().take(4L * values.length);
        platform.ramRead(gpa, buf);
        MemorySegment.copy(buf, LE_INT, 0, values, 0, values.length);
    }

    static int readInt(GuestPlatform platform, long gpa) {
        MemorySegment buf = SCRATCH.get().take(4);
        platform.ramRead(gpa, buf);
        return buf.get(LE_INT, 0);
    }

    /** Zeroes {@code bytes} of RAM at {@code gpa}. */
    static void clear(GuestPlatform platform, long gpa, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            platform.ramWrite(gpa, arena.allocate(bytes));
        }
    }
}
