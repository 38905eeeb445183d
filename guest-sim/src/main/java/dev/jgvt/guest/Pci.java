package dev.jgvt.guest;

/** PCI configuration-space offsets and bits the driver uses (PCI Local Bus Specification 3.0). */
final class Pci {
    static final int VENDOR_ID = 0x00;
    static final int DEVICE_ID = 0x02;
    static final int COMMAND = 0x04;
    static final int STATUS = 0x06;
    static final int CLASS_REVISION = 0x08;
    static final int BAR0 = 0x10;
    static final int BAR2 = 0x18;
    static final int CAPABILITIES_POINTER = 0x34;
    static final int ASLS = 0xFC;

    static final int COMMAND_MEMORY = 1 << 1;
    static final int COMMAND_BUS_MASTER = 1 << 2;
    static final int STATUS_CAPABILITIES = 1 << 4;

    static final int BAR_MEMORY_64 = 0b100;
    static final int BAR_PREFETCHABLE = 0b1000;
    static final long BAR_ADDRESS_MASK = ~0xFL;

    static final int CAP_ID_MSI = 0x05;
    static final int MSI_CONTROL = 2;
    static final int MSI_ADDRESS = 4;
    static final int MSI_DATA_32 = 8;
    static final int MSI_CONTROL_ENABLE = 1;
    static final int MSI_CONTROL_64BIT = 1 << 7;

    static final int INTEL_VENDOR = 0x8086;

    private Pci() {}
}
