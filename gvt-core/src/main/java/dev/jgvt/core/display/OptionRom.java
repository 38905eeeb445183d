package dev.jgvt.core.display;

import java.util.List;

/**
 * The vGPU's PCI expansion ROM (VFIO region 6): one legacy x86 image, as a VGA BIOS is laid out, carrying the
 * {@link Vbt}. What the firmware and the guest check: the 0xAA55 signature and the image length in 512-byte
 * units at offset 2; at 0x18 the offset of the {@code PCIR} data structure (vendor/device 8086:1912, class
 * 0x030000, code type 0 = x86, last-image indicator); bytes summing to zero. The entry point at offset 3 is a
 * far return: a BIOS that runs the option ROM (SeaBIOS does, for the first VGA device, and copies it to the
 * legacy 0xC0000 window Linux later reads as the "shadowed ROM") gets control back at once. The VBT sits on a
 * 4-byte boundary, where i915's scan for {@code $VBT} looks.
 */
public final class OptionRom {
    /** Region and ROM BAR size (a power of two). */
    public static final int SIZE = 8192;
    static final int PCIR_OFFSET = 0x40;
    static final int VBT_OFFSET = 0x80;
    static final int PCIR_LENGTH = 0x18;
    static final int CODE_TYPE_X86 = 0;
    static final int LAST_IMAGE = 0x80;
    private static final int FAR_RETURN = 0xCB;

    private OptionRom() {}

    /** The image for a device {@code vendor:device}. */
    public static byte[] build(int vendor, int device, byte[] vbt) {
        if (VBT_OFFSET + vbt.length > SIZE - 1) {
            throw new IllegalArgumentException("VBT of " + vbt.length + " bytes does not fit the " + SIZE + "-byte ROM");
        }
        byte[] rom = new byte[SIZE];
        Vbt.put(rom, 0, List.of(
                new Vbt.Field("signature", 0, 2, 0xAA55),
                new Vbt.Field("length_512", 2, 1, SIZE / 512),
                new Vbt.Field("entry", 3, 1, FAR_RETURN),
                new Vbt.Field("pcir_offset", 0x18, 2, PCIR_OFFSET)));
        Vbt.put(rom, PCIR_OFFSET, List.of(
                new Vbt.Field("signature", 0, 4, 0x52494350), // "PCIR"
                new Vbt.Field("vendor", 4, 2, vendor),
                new Vbt.Field("device", 6, 2, device),
                new Vbt.Field("length", 0x0A, 2, PCIR_LENGTH),
                new Vbt.Field("revision", 0x0C, 1, 0),
                new Vbt.Field("class_interface_subclass", 0x0D, 2, 0x0000), // programming interface 0, VGA
                new Vbt.Field("class_base", 0x0F, 1, 0x03), // display controller
                new Vbt.Field("image_length_512", 0x10, 2, SIZE / 512),
                new Vbt.Field("code_revision", 0x12, 2, 1),
                new Vbt.Field("code_type", 0x14, 1, CODE_TYPE_X86),
                new Vbt.Field("indicator", 0x15, 1, LAST_IMAGE)));
        System.arraycopy(vbt, 0, rom, VBT_OFFSET, vbt.length);
        int sum = 0;
        for (byte b : rom) {
            sum += b & 0xFF;
        }
        rom[SIZE - 1] = (byte) -sum;
        return rom;
    }
}
