package dev.jgvt.guest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Duration;

/**
 * What a guest driver can touch: its device's config space and BARs, its RAM, and the interrupts it
 * receives. Implemented by whatever hosts the guest (an in-process hypervisor, a VMM over a socket).
 */
public interface GuestPlatform {
    /** BAR0 (MMIO registers + GGTT window), as a region number. */
    int BAR0 = 0;
    /** BAR2 (aperture), as a region number. */
    int BAR2 = 2;

    long configRead(int offset, int size);

    void configWrite(int offset, int size, long value);

    long mmioRead(int bar, long offset, int size);

    void mmioWrite(int bar, long offset, int size, long value);

    long ramSize();

    /** Copies guest RAM at {@code gpa} into {@code dst}, which the caller may reuse once this returns. */
    void ramRead(long gpa, MemorySegment dst);

    /** Copies {@code src} into guest RAM at {@code gpa}; the caller may reuse {@code src} once this returns. */
    void ramWrite(long gpa, MemorySegment src);

    long msiCount();

    /** Waits until more than {@code seen} MSIs arrived or the timeout passed; returns the count. */
    long awaitMsi(long seen, Duration timeout) throws InterruptedException;

    /** A little-endian 64-bit RAM read. */
    default long ramReadLong(long gpa) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            ramRead(gpa, buf);
            return buf.get(LE_LONG, 0);
        }
    }

    /** A little-endian 64-bit RAM write. */
    default void ramWriteLong(long gpa, long value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            buf.set(LE_LONG, 0, value);
            ramWrite(gpa, buf);
        }
    }

    /** Little-endian unaligned long, the layout of page-table entries in RAM. */
    ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
}
