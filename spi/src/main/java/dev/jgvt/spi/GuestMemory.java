package dev.jgvt.spi;

import java.lang.foreign.MemorySegment;

/**
 * Guest RAM by guest physical address, like VFIO's {@code vfio_dma_rw}: an access may cross mapping
 * boundaries, and either completes fully or fails without side effects on the destination's unrelated
 * bytes (a failed read may have written a prefix of {@code dst}; a failed write writes nothing).
 *
 * <p>Threading: safe from any thread. Concurrent accesses to overlapping ranges are not ordered.
 */
public interface GuestMemory {
    /** Size of a guest frame. */
    int PAGE_SIZE = 4096;

    /**
     * Copies {@code dst.byteSize()} bytes of guest RAM starting at {@code gpa} into {@code dst}.
     *
     * @throws GvtException {@link ErrorCode#NOT_MAPPED} if any byte of the range is not guest RAM,
     *     {@link ErrorCode#OUT_OF_RANGE} if the range wraps past 2^64, {@link ErrorCode#ILLEGAL_STATE}
     *     after detach
     */
    void read(long gpa, MemorySegment dst);

    /**
     * Copies {@code src} into guest RAM at {@code gpa}. Writes to tracked frames made through this method
     * are the core's own and are <em>not</em> reported back through {@link DeviceModel#trackedWrite}.
     *
     * @throws GvtException {@link ErrorCode#NOT_MAPPED}, {@link ErrorCode#PERMISSION_DENIED} if a byte
     *     of the range is mapped read-only, {@link ErrorCode#OUT_OF_RANGE}, {@link ErrorCode#ILLEGAL_STATE}
     */
    void write(long gpa, MemorySegment src);

    /** Whether guest frame {@code gfn} is backed by guest RAM right now. Never throws for any gfn. */
    boolean isBacked(long gfn);

    /** Reads a little-endian 64-bit value (a page-table entry) at {@code gpa}; errors as {@link #read}. */
    default long readLong(long gpa) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            read(gpa, buf);
            return buf.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
        }
    }

    /** Writes a little-endian 64-bit value at {@code gpa}; errors as {@link #write}. */
    default void writeLong(long gpa, long value) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            buf.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, value);
            write(gpa, buf);
        }
    }
}
