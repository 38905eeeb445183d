package dev.jgvt.guest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A test platform: RAM in a segment, a config space that behaves like a device with two 64-bit BARs and an
 * MSI capability, and an MMIO map of canned register values. Records every RAM write's address.
 */
class RamPlatform implements GuestPlatform {
    final MemorySegment ram;
    final MemorySegment config = Arena.ofAuto().allocate(4096);
    final Map<Long, Long> mmio = new HashMap<>();
    final long bar0Size;
    final long bar2Size;
    int ramWrites;

    RamPlatform(long ramBytes, long bar0Size, long bar2Size) {
        this.ram = Arena.ofAuto().allocate(ramBytes, 4096);
        this.bar0Size = bar0Size;
        this.bar2Size = bar2Size;
        config.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) 0x8086);
        config.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2, (short) 0x1912);
        config.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 6, (short) 0x10); // capabilities list
        config.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0x10, 0b0100); // BAR0 64-bit
        config.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0x18, 0b1100); // BAR2 64-bit prefetchable
        config.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0x34, (byte) 0x90);
        config.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0x90, (byte) 0x09); // vendor cap first
        config.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0x91, (byte) 0xAC);
        config.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0xAC, (byte) 0x05); // MSI
        config.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0xAD, (byte) 0x00);
    }

    @Override
    public long configRead(int offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (config.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + i) & 0xFFL) << (8 * i);
        }
        return value;
    }

    @Override
    public void configWrite(int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            long byteValue = (value >>> (8 * i)) & 0xFF;
            byteValue = barByte(at, byteValue);
            config.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at, (byte) byteValue);
        }
    }

    /** BAR bytes keep their size mask: the low bits of a BAR are read-only zeroes below its size. */
    private long barByte(int at, long value) {
        long size = at >= 0x10 && at < 0x18 ? bar0Size : at >= 0x18 && at < 0x20 ? bar2Size : 0;
        if (size == 0) {
            return value;
        }
        int base = at < 0x18 ? 0x10 : 0x18;
        int shift = 8 * (at - base);
        long mask = ~(size - 1);
        long flags = at - base == 0 ? (base == 0x10 ? 0b0100 : 0b1100) : 0;
        return (((value << shift) & mask) >>> shift & 0xFF) & (at - base == 0 ? 0xF0 : 0xFF) | flags;
    }

    @Override
    public long mmioRead(int bar, long offset, int size) {
        return mmio.getOrDefault(offset, 0L);
    }

    @Override
    public void mmioWrite(int bar, long offset, int size, long value) {
        mmio.put(offset, value);
    }

    @Override
    public long ramSize() {
        return ram.byteSize();
    }

    @Override
    public void ramRead(long gpa, MemorySegment dst) {
        MemorySegment.copy(ram, gpa, dst, 0, dst.byteSize());
    }

    @Override
    public void ramWrite(long gpa, MemorySegment src) {
        ramWrites++;
        MemorySegment.copy(src, 0, ram, gpa, src.byteSize());
    }

    @Override
    public long msiCount() {
        return 0;
    }

    @Override
    public long awaitMsi(long seen, Duration timeout) {
        return seen;
    }
}
