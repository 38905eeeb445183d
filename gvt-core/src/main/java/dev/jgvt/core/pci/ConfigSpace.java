package dev.jgvt.core.pci;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * The vGPU's 4 KiB PCI configuration space with GVT-g's write rules.
 *
 * <ul>
 *   <li>Every byte has a write mask; bits outside it keep their value (read-only).</li>
 *   <li>The upper byte of STATUS (0x07) is write-1-to-clear for the error bits.</li>
 *   <li>BARs: the address bits below the BAR's size are read-only zero, so writing all ones and reading back
 *       yields the size mask (BAR sizing). BAR0 is 64-bit memory, 16 MiB; BAR2 is 64-bit prefetchable memory
 *       of the host aperture's size; BAR1/3/4/5 are zero and read-only. The expansion ROM BAR (0x30) sizes
 *       as {@link #ROM_SIZE} bytes (address bits and the enable bit writable); the ROM's contents are the
 *       VMM's to serve (VFIO region 6).</li>
 *   <li>COMMAND.MEMORY gates BAR0 trapping and the aperture-slice mapping ({@link PciListener}); moving a
 *       BAR while memory decoding is enabled untraps/unmaps the old place and traps/maps the new one.
 *       A sizing write (all ones) never moves anything.</li>
 *   <li>MSI capability at 0xAC: single message, 32-bit address; only the enable bit of the message control
 *       is writable.</li>
 *   <li>GMCH (0x50, read-only) as GVT-g presents it: GGMS = 3 (an 8 MiB GGTT page table = 4 GiB of graphics
 *       memory, what BAR0's GGTT window at 8 MiB serves) and GMS = 0 (no stolen memory); BDSM (0x5C,
 *       read-only) is 0 accordingly. SWSCI (0xE8) and ASLS (0xFC) are writable dwords.</li>
 * </ul>
 *
 * Accesses are little-endian and may be 1, 2, 4 or 8 bytes at any offset inside the space; the caller
 * checks the bounds. Not thread-safe (the vGPU serialises).
 */
public final class ConfigSpace {
    public static final int SIZE = 4096;
    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int REVISION = 0x08;
    public static final int CLASS_CODE = 0x09;
    public static final int HEADER_TYPE = 0x0E;
    public static final int BAR0 = 0x10;
    public static final int BAR2 = 0x18;
    public static final int BAR4 = 0x20;
    public static final int SUBSYSTEM_VENDOR = 0x2C;
    public static final int ROM = 0x30;
    public static final int CAP_POINTER = 0x34;
    public static final int INTERRUPT_LINE = 0x3C;
    public static final int INTERRUPT_PIN = 0x3D;
    public static final int GMCH = 0x50;
    /** GMCH: GGTT size field (bits 7:6; 3 = 8 MiB of entries) and stolen-memory size field (bits 15:8). */
    public static final int GMCH_GGMS_SHIFT = 6;
    public static final int GMCH_GMS_SHIFT = 8;
    /** GGMS = 3: 8 MiB of GGTT entries (BAR0 [8 MiB, 16 MiB)), a 4 GiB GGTT; GMS = 0: no stolen memory. */
    public static final int GMCH_VALUE = 3 << GMCH_GGMS_SHIFT;
    public static final int BDSM = 0x5C;
    public static final int MSI_CAP = 0xAC;
    public static final int MSI_CONTROL = MSI_CAP + 2;
    public static final int MSI_ADDRESS = MSI_CAP + 4;
    public static final int MSI_DATA = MSI_CAP + 8;
    public static final int PM_CAP = 0xD0;
    public static final int SWSCI = 0xE8;
    public static final int ASLS = 0xFC;

    public static final int COMMAND_IO = 1;
    public static final int COMMAND_MEMORY = 1 << 1;
    public static final int COMMAND_MASTER = 1 << 2;
    public static final int STATUS_CAP_LIST = 1 << 4;
    /** STATUS bits 8 and 11..15 (parity, aborts, SERR, parity error): write-1-to-clear. */
    public static final int STATUS_RW1C = 0xF900;

    public static final int BAR0_SIZE = 16 << 20;
    /** Size of the expansion ROM the ROM BAR decodes (dev.jgvt.core.display.OptionRom.SIZE). */
    public static final int ROM_SIZE = 8192;
    private static final int BAR_MEM64 = 0x4;
    private static final int BAR_PREFETCH = 0x8;
    /** SWSCI bit 0: the trigger (GSSCIE); bit 15: SCI rather than SMI. */
    public static final int SWSCI_TRIGGER = 1;

    private final int deviceId;
    private final long bar2Size;
    private final long sliceOffset;
    private final long sliceSize;
    private final PciListener listener;
    private final byte[] bytes = new byte[SIZE];
    private final byte[] writeMask = new byte[SIZE];
    private final byte[] w1cMask = new byte[SIZE];
    /** Where BAR0 / BAR2 are currently decoded (last non-sizing value). */
    private long bar0Base;
    private long bar2Base;
    private boolean memoryEnabled;

    /**
     * @param deviceId PCI device id (the host's, e.g. 0x1912 for Skylake GT2)
     * @param bar2Size the host aperture size (BAR2 size, a power of two)
     * @param sliceOffset offset of the vGPU's aperture slice inside BAR2
     * @param sliceSize size of the slice
     */
    public ConfigSpace(int deviceId, long bar2Size, long sliceOffset, long sliceSize, PciListener listener) {
        if (Long.bitCount(bar2Size) != 1 || bar2Size < 4096 || sliceOffset < 0 || sliceSize < 0
                || sliceOffset + sliceSize > bar2Size) {
            throw new IllegalArgumentException("bad BAR2 geometry: size " + bar2Size + ", slice " + sliceOffset + "+" + sliceSize);
        }
        this.deviceId = deviceId;
        this.bar2Size = bar2Size;
        this.sliceOffset = sliceOffset;
        this.sliceSize = sliceSize;
        this.listener = requireNonNull(listener, "listener is null");
        reset();
    }

    /** Back to the power-on contents (the listener is not told: the caller resets what depends on it). */
    public void reset() {
        Arrays.fill(bytes, (byte) 0);
        Arrays.fill(writeMask, (byte) 0);
        Arrays.fill(w1cMask, (byte) 0);
        put(VENDOR_ID, 2, 0x8086);
        put(DEVICE_ID, 2, deviceId);
        put(STATUS, 2, STATUS_CAP_LIST);
        put(REVISION, 1, 0x06);
        put(CLASS_CODE, 3, 0x030000); // display controller, VGA compatible (the vGPU is the guest's primary)
        put(HEADER_TYPE, 1, 0);
        put(BAR0, 4, BAR_MEM64);
        put(BAR2, 4, BAR_MEM64 | BAR_PREFETCH);
        put(SUBSYSTEM_VENDOR, 2, 0x8086);
        put(SUBSYSTEM_VENDOR + 2, 2, deviceId);
        put(CAP_POINTER, 1, MSI_CAP);
        put(INTERRUPT_PIN, 1, 1);
        put(GMCH, 2, GMCH_VALUE);
        put(BDSM, 4, 0);
        // MSI: id 5, next = PM; control: single message, 32-bit address
        put(MSI_CAP, 1, 0x05);
        put(MSI_CAP + 1, 1, PM_CAP);
        // PM: id 1, last; PMC version 1.2
        put(PM_CAP, 1, 0x01);
        put(PM_CAP + 2, 2, 0x0022);

        mask(COMMAND, 2, COMMAND_IO | COMMAND_MEMORY | COMMAND_MASTER | (1 << 6) | (1 << 8) | (1 << 10));
        w1c(STATUS, 2, STATUS_RW1C);
        mask(0x0C, 1, 0xFF); // cache line size
        long bar0Mask = ~(long) (BAR0_SIZE - 1);
        mask(BAR0, 4, (int) bar0Mask & ~0xF);
        mask(BAR0 + 4, 4, (int) (bar0Mask >>> 32));
        long bar2Mask = ~(bar2Size - 1);
        mask(BAR2, 4, (int) bar2Mask & ~0xF);
        mask(BAR2 + 4, 4, (int) (bar2Mask >>> 32));
        mask(ROM, 4, ~(ROM_SIZE - 1) | 1);
        mask(INTERRUPT_LINE, 1, 0xFF);
        mask(MSI_CONTROL, 2, 0x0001);
        mask(MSI_ADDRESS, 4, 0xFFFFFFFC);
        mask(MSI_DATA, 2, 0xFFFF);
        mask(PM_CAP + 4, 2, 0x0003);
        mask(SWSCI, 4, 0xFFFFFFFF);
        mask(ASLS, 4, 0xFFFFFFFF);
        bar0Base = 0;
        bar2Base = 0;
        memoryEnabled = false;
    }

    private void put(int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            bytes[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    private void mask(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            writeMask[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    private void w1c(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            w1cMask[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** Little-endian read of {@code size} (1..8) bytes at {@code offset}. */
    public long read(int offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (bytes[offset + i] & 0xFFL) << (8 * i);
        }
        return value;
    }

    /** Little-endian write of {@code size} (1..8) bytes, applying the write rules and their effects. */
    public void write(int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            int b = (int) (value >>> (8 * i)) & 0xFF;
            int wm = writeMask[at] & 0xFF;
            int clear = w1cMask[at] & 0xFF & b;
            int old = bytes[at] & 0xFF;
            bytes[at] = (byte) (((old & ~wm) | (b & wm)) & ~clear);
        }
        int end = offset + size;
        if (touches(offset, end, COMMAND, 2)) {
            boolean enable = (read(COMMAND, 2) & COMMAND_MEMORY) != 0;
            if (enable != memoryEnabled) {
                memoryEnabled = enable;
                listener.bar0Trap(bar0Base, BAR0_SIZE, enable);
                if (sliceSize > 0) {
                    listener.apertureMap(bar2Base + sliceOffset, sliceSize, enable);
                }
            }
        }
        if (touches(offset, end, BAR0, 8)) {
            relocate(BAR0);
        }
        if (touches(offset, end, BAR2, 8)) {
            relocate(BAR2);
        }
        if (touches(offset, end, ASLS, 4)) {
            listener.opRegionAddress(read(ASLS, 4));
        }
        if (touches(offset, end, SWSCI, 4) && (read(SWSCI, 4) & SWSCI_TRIGGER) != 0) {
            listener.swsci((int) read(SWSCI, 4));
        }
    }

    private void relocate(int bar) {
        long lo = read(bar, 4);
        long hi = read(bar + 4, 4);
        long maskLo = read32(writeMask, bar);
        long maskHi = read32(writeMask, bar + 4);
        boolean sizing = (maskLo != 0 && (lo & maskLo) == maskLo) || (maskHi != 0 && (hi & maskHi) == maskHi);
        if (sizing) {
            return;
        }
        long base = (hi << 32) | (lo & ~0xFL);
        if (bar == BAR0 && base != bar0Base) {
            if (memoryEnabled) {
                listener.bar0Trap(bar0Base, BAR0_SIZE, false);
                listener.bar0Trap(base, BAR0_SIZE, true);
            }
            bar0Base = base;
        } else if (bar == BAR2 && base != bar2Base) {
            if (memoryEnabled && sliceSize > 0) {
                listener.apertureMap(bar2Base + sliceOffset, sliceSize, false);
                listener.apertureMap(base + sliceOffset, sliceSize, true);
            }
            bar2Base = base;
        }
    }

    private static long read32(byte[] array, int offset) {
        return (array[offset] & 0xFFL) | (array[offset + 1] & 0xFFL) << 8 | (array[offset + 2] & 0xFFL) << 16
                | (array[offset + 3] & 0xFFL) << 24;
    }

    private static boolean touches(int start, int end, int field, int fieldSize) {
        return start < field + fieldSize && field < end;
    }

    public boolean memoryEnabled() {
        return memoryEnabled;
    }

    /** Where BAR0 is decoded (the last programmed address, not a sizing pattern). */
    public long bar0Base() {
        return bar0Base;
    }

    public long bar2Base() {
        return bar2Base;
    }

    public long bar2Size() {
        return bar2Size;
    }

    public boolean msiEnabled() {
        return (read(MSI_CONTROL, 2) & 1) != 0;
    }

    public long msiAddress() {
        return read(MSI_ADDRESS, 4);
    }

    public int msiData() {
        return (int) read(MSI_DATA, 2);
    }

    /** The device latches error bits in STATUS (for example a master abort on a failed DMA). */
    public void raiseStatus(int bits) {
        put(STATUS, 2, read(STATUS, 2) | (bits & STATUS_RW1C));
    }

    /** Clears the SWSCI trigger bit once the request has been answered. */
    public void completeSwsci() {
        bytes[SWSCI] &= (byte) ~SWSCI_TRIGGER;
    }
}
