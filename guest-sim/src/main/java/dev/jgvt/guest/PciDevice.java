package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

/**
 * What PCI enumeration found and programmed: the device's identity, where its BARs were placed in guest
 * physical space, their sizes, and the MSI capability.
 */
public record PciDevice(int vendorId, int deviceId, long bar0Base, long bar0Size, long bar2Base, long bar2Size,
        int msiCapability) {

    /**
     * Enumerates the device like firmware plus a kernel's PCI core: checks the identity, sizes BAR0 and
     * BAR2 by writing all ones, places them at {@code mmioBase} (BAR0) and above (BAR2, aligned to its
     * size), enables memory decoding and bus mastering, and programs the MSI capability (single message,
     * 32-bit address) with {@code msiAddress}/{@code msiData} and enables it.
     */
    public static PciDevice enumerate(GuestPlatform platform, long mmioBase, int msiAddress, int msiData) {
        requireNonNull(platform, "platform is null");
        int vendor = (int) platform.configRead(Pci.VENDOR_ID, 2);
        int device = (int) platform.configRead(Pci.DEVICE_ID, 2);
        if (vendor != Pci.INTEL_VENDOR) {
            throw new GuestException(String.format("not an Intel device: vendor 0x%04x", vendor));
        }
        long bar0Size = sizeBar(platform, Pci.BAR0, false);
        long bar2Size = sizeBar(platform, Pci.BAR2, true);
        long bar0 = alignUp(mmioBase, bar0Size);
        long bar2 = alignUp(bar0 + bar0Size, bar2Size);
        programBar(platform, Pci.BAR0, bar0);
        programBar(platform, Pci.BAR2, bar2);
        int msi = findCapability(platform, Pci.CAP_ID_MSI);
        if (msi == 0) {
            throw new GuestException("no MSI capability in the capability list");
        }
        platform.configWrite(msi + Pci.MSI_ADDRESS, 4, msiAddress & 0xFFFF_FFFFL);
        platform.configWrite(msi + Pci.MSI_DATA_32, 2, msiData & 0xFFFF);
        long control = platform.configRead(msi + Pci.MSI_CONTROL, 2);
        if ((control & Pci.MSI_CONTROL_64BIT) != 0) {
            throw new GuestException(String.format("MSI capability claims 64-bit addresses (control 0x%04x); GVT-g's is 32-bit", control));
        }
        platform.configWrite(msi + Pci.MSI_CONTROL, 2, control | Pci.MSI_CONTROL_ENABLE);
        long command = platform.configRead(Pci.COMMAND, 2);
        platform.configWrite(Pci.COMMAND, 2, command | Pci.COMMAND_MEMORY | Pci.COMMAND_BUS_MASTER);
        return new PciDevice(vendor, device, bar0, bar0Size, bar2, bar2Size, msi);
    }

    /** Sizes a 64-bit memory BAR with decoding off, as the PCI specification prescribes; restores it. */
    static long sizeBar(GuestPlatform platform, int bar, boolean prefetchable) {
        long low = platform.configRead(bar, 4);
        if ((low & 0b110) != Pci.BAR_MEMORY_64) {
            throw new GuestException(String.format("BAR at 0x%02x is not a 64-bit memory BAR: 0x%08x", bar, low));
        }
        if (prefetchable != ((low & Pci.BAR_PREFETCHABLE) != 0)) {
            throw new GuestException(String.format("BAR at 0x%02x: prefetchable bit is %s, expected %s",
                    bar, !prefetchable, prefetchable));
        }
        long high = platform.configRead(bar + 4, 4);
        platform.configWrite(bar, 4, 0xFFFF_FFFFL);
        platform.configWrite(bar + 4, 4, 0xFFFF_FFFFL);
        long maskLow = platform.configRead(bar, 4);
        long maskHigh = platform.configRead(bar + 4, 4);
        platform.configWrite(bar, 4, low);
        platform.configWrite(bar + 4, 4, high);
        long mask = (maskHigh << 32) | (maskLow & Pci.BAR_ADDRESS_MASK & 0xFFFF_FFFFL);
        long size = -mask;
        if (size <= 0 || Long.bitCount(size) != 1) {
            throw new GuestException(String.format("BAR at 0x%02x answered sizing with 0x%016x: not a power of two", bar, mask));
        }
        return size;
    }

    private static void programBar(GuestPlatform platform, int bar, long address) {
        long flags = platform.configRead(bar, 4) & 0xF;
        platform.configWrite(bar, 4, (address & 0xFFFF_FFF0L) | flags);
        platform.configWrite(bar + 4, 4, address >>> 32);
        long back = (platform.configRead(bar, 4) & 0xFFFF_FFF0L) | (platform.configRead(bar + 4, 4) << 32);
        if (back != address) {
            throw new GuestException(String.format("BAR at 0x%02x reads back 0x%x after writing 0x%x", bar, back, address));
        }
    }

    static int findCapability(GuestPlatform platform, int id) {
        if ((platform.configRead(Pci.STATUS, 2) & Pci.STATUS_CAPABILITIES) == 0) {
            return 0;
        }
        int pointer = (int) platform.configRead(Pci.CAPABILITIES_POINTER, 1) & 0xFC;
        for (int hops = 0; pointer != 0 && hops < 48; hops++) {
            if (platform.configRead(pointer, 1) == id) {
                return pointer;
            }
            pointer = (int) platform.configRead(pointer + 1, 1) & 0xFC;
        }
        return 0;
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
