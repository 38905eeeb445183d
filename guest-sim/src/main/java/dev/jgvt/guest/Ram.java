package dev.jgvt.guest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Dword-granular access to guest RAM through the platform (little-endian, like the GPU's view of memory). */
final class Ram {
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Ram() {}

    static void writeInts(GuestPlatform platform, long gpa, int[] values) {
        if (values.length == 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4L * values.length);
            for (int i = 0; i < values.length; i++) {
                buf.set(LE_INT, 4L * i, values[i]);
            }
            platform.ramWrite(gpa, buf);
        }
    }

    static void writeInt(GuestPlatform platform, long gpa, int value) {
        writeInts(platform, gpa, new int[] {value});
    }

    static int[] readInts(GuestPlatform platform, long gpa, int count) {
        int[] values = new int[count];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4L * count);
            platform.ramRead(gpa, buf);
            for (int i = 0; i < count; i++) {
                values[i] = buf.get(LE_INT, 4L * i);
            }
        }
        return values;
    }

    static int readInt(GuestPlatform platform, long gpa) {
        return readInts(platform, gpa, 1)[0];
    }

    /** Zeroes {@code bytes} of RAM at {@code gpa}. */
    static void clear(GuestPlatform platform, long gpa, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            platform.ramWrite(gpa, arena.allocate(bytes));
        }
    }
}
