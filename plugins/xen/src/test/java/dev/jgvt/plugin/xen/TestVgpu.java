package dev.jgvt.plugin.xen;

import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PlaneInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A small device model double: a PCI config space with a 64-bit BAR0 (16 MiB), a 64-bit BAR2 (64 MiB),
 * a capability list holding a 32-bit MSI capability at 0x90, registers as a sparse map, and a record of
 * every call. A tracked write also records whether guest RAM already held the bytes when it was reported.
 */
final class TestVgpu implements DeviceModel {
    static final long BAR0_SIZE = 16L << 20;
    static final long BAR2_SIZE = 64L << 20;
    static final int MSI_CAP = 0x90;

    record Access(int region, long offset, int size, long value, boolean write) {}

    record Tracked(long gpa, byte[] bytes, boolean committedBeforeReport) {}

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final MemorySegment config = Arena.ofAuto().allocate(4096);
    private final Map<Long, Long> registers = new HashMap<>();
    final List<Access> accesses = new ArrayList<>();
    final List<Tracked> tracked = new ArrayList<>();
    volatile GuestMemory memory;
    final Thread[] lastCaller = new Thread[1];

    TestVgpu() {
        config.set(U32, 0x00, 0x1912_8086);
        config.set(U32, 0x04, 0x0010_0000); // status: capability list
        config.set(U32, 0x08, 0x0300_0006); // VGA class
        config.set(U32, 0x10, 0x0000_0004); // BAR0: 64-bit memory
        config.set(U32, 0x18, 0x0000_000C); // BAR2: 64-bit prefetchable
        config.set(ValueLayout.JAVA_BYTE, 0x34, (byte) MSI_CAP);
        config.set(ValueLayout.JAVA_BYTE, MSI_CAP, (byte) 0x05);
        config.set(ValueLayout.JAVA_BYTE, MSI_CAP + 1, (byte) 0x00);
    }

    @Override
    public DeviceLayout layout() {
        Set<DeviceLayout.Flag> rw = Set.of(DeviceLayout.Flag.READ, DeviceLayout.Flag.WRITE);
        return new DeviceLayout(0x8086, 0x1912, List.of(
                new DeviceLayout.Region(DeviceLayout.CONFIG, "config", 4096, rw, List.of(), 0, 0),
                new DeviceLayout.Region(DeviceLayout.BAR0, "bar0", BAR0_SIZE, rw, List.of(), 0, 0),
                new DeviceLayout.Region(DeviceLayout.BAR2, "bar2", BAR2_SIZE, rw, List.of(), 0, 0)),
                List.of(new DeviceLayout.Irq(DeviceLayout.IRQ_MSI, 1)));
    }

    private static void checkSize(int size) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "size " + size);
        }
    }

    @Override
    public synchronized long read(int region, long offset, int size) {
        checkSize(size);
        lastCaller[0] = Thread.currentThread();
        long value = switch (region) {
            case DeviceLayout.CONFIG -> {
                if (offset < 0 || offset + size > 4096) {
                    throw new GvtException(ErrorCode.OUT_OF_RANGE, "config " + offset);
                }
                long v = 0;
                for (int i = size - 1; i >= 0; i--) {
                    v = (v << 8) | Byte.toUnsignedLong(config.get(ValueLayout.JAVA_BYTE, offset + i));
                }
                yield v;
            }
            case DeviceLayout.BAR0, DeviceLayout.BAR2 -> {
                long limit = region == DeviceLayout.BAR0 ? BAR0_SIZE : BAR2_SIZE;
                if (offset < 0 || offset + size > limit) {
                    throw new GvtException(ErrorCode.OUT_OF_RANGE, "bar" + region + " " + offset);
                }
                yield registers.getOrDefault(((long) region << 40) | offset, 0L);
            }
            default -> throw new GvtException(ErrorCode.INVALID_ARGUMENT, "region " + region);
        };
        accesses.add(new Access(region, offset, size, value, false));
        return value;
    }

    @Override
    public synchronized void write(int region, long offset, int size, long value) {
        checkSize(size);
        lastCaller[0] = Thread.currentThread();
        accesses.add(new Access(region, offset, size, value, true));
        switch (region) {
            case DeviceLayout.CONFIG -> configWrite((int) offset, size, value);
            case DeviceLayout.BAR0, DeviceLayout.BAR2 -> {
                long limit = region == DeviceLayout.BAR0 ? BAR0_SIZE : BAR2_SIZE;
                if (offset < 0 || offset + size > limit) {
                    throw new GvtException(ErrorCode.OUT_OF_RANGE, "bar" + region + " " + offset);
                }
                registers.put(((long) region << 40) | offset, size == 8 ? value : value & ((1L << (size * 8)) - 1));
            }
            default -> throw new GvtException(ErrorCode.INVALID_ARGUMENT, "region " + region);
        }
    }

    private void configWrite(int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            int b = (int) (value >>> (8 * i)) & 0xFF;
            if (at == 0x04) {
                b &= 0x07;
            } else if (at == 0x05 || (at >= 0x00 && at < 0x04) || (at >= 0x06 && at < 0x10) || at == 0x34
                    || at == MSI_CAP || at == MSI_CAP + 1) {
                continue; // read-only
            } else if (at >= 0x10 && at < 0x20) {
                int bar = (at - 0x10) / 8; // 0 = BAR0 pair, 1 = BAR2 pair
                long size64 = bar == 0 ? BAR0_SIZE : BAR2_SIZE;
                int byteInPair = (at - 0x10) % 8;
                long mask = ~(size64 - 1);
                b &= (int) (mask >>> (8 * byteInPair)) & 0xFF;
                if (byteInPair == 0) {
                    b = (b & 0xF0) | (config.get(ValueLayout.JAVA_BYTE, at) & 0x0F);
                }
            } else if (at >= 0x20 && at < 0x28) {
                continue;
            }
            config.set(ValueLayout.JAVA_BYTE, at, (byte) b);
        }
    }

    @Override
    public synchronized void trackedWrite(long gpa, MemorySegment bytes) {
        lastCaller[0] = Thread.currentThread();
        byte[] copy = bytes.toArray(ValueLayout.JAVA_BYTE);
        boolean committed = false;
        GuestMemory mem = memory;
        if (mem != null) {
            byte[] inRam = new byte[copy.length];
            mem.read(gpa, MemorySegment.ofArray(inRam));
            committed = java.util.Arrays.equals(inRam, copy);
        }
        tracked.add(new Tracked(gpa, copy, committed));
    }

    @Override
    public void dmaUnmapped(long iova, long length) {}

    @Override
    public void reset() {}

    @Override
    public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type) {
        return Optional.empty();
    }

    synchronized long register(int region, long offset) {
        return registers.getOrDefault(((long) region << 40) | offset, 0L);
    }

    synchronized long configValue(int offset) {
        return config.get(U32, offset) & 0xFFFF_FFFFL;
    }

    synchronized List<Access> accesses() {
        return List.copyOf(accesses);
    }

    synchronized List<Tracked> trackedWrites() {
        return List.copyOf(tracked);
    }
}
