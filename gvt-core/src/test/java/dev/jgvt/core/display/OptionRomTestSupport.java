package dev.jgvt.core.display;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An independent reader of an expansion ROM image and its VBT, checking what the firmware (signature, PCIR, length,
 * checksum) and i915 (a 4-byte aligned {@code $VBT}, header sizes, BDB blocks, child devices) rely on.
 */
public final class OptionRomTestSupport {
    private OptionRomTestSupport() {}

    static int u8(byte[] b, int at) {
        return b[at] & 0xFF;
    }

    static int u16(byte[] b, int at) {
        return u8(b, at) | u8(b, at + 1) << 8;
    }

    static int u32(byte[] b, int at) {
        return u16(b, at) | u16(b, at + 2) << 16;
    }

    /** Problems found in {@code rom}; empty when it is a valid single-image VGA ROM for 8086:1912 with our VBT. */
    public static List<String> check(byte[] rom) {
        List<String> problems = new ArrayList<>();
        if (u16(rom, 0) != 0xAA55) {
            problems.add("no 0xAA55 signature");
        }
        int length = u8(rom, 2) * 512;
        if (length != rom.length) {
            problems.add("image length " + length + " != " + rom.length);
        }
        int sum = 0;
        for (int i = 0; i < Math.min(length, rom.length); i++) {
            sum += rom[i] & 0xFF;
        }
        if ((sum & 0xFF) != 0) {
            problems.add("checksum");
        }
        int pcir = u16(rom, 0x18);
        if (u32(rom, pcir) != 0x52494350) {
            problems.add("no PCIR at " + pcir);
        }
        if (u16(rom, pcir + 4) != 0x8086 || u16(rom, pcir + 6) != 0x1912) {
            problems.add("PCIR ids");
        }
        if (u8(rom, pcir + 0x0F) != 3 || u8(rom, pcir + 0x0E) != 0 || u8(rom, pcir + 0x0D) != 0) {
            problems.add("PCIR class");
        }
        if (u16(rom, pcir + 0x10) * 512 != length || u8(rom, pcir + 0x14) != 0 || (u8(rom, pcir + 0x15) & 0x80) == 0) {
            problems.add("PCIR length/code type/last image");
        }
        int vbt = -1;
        for (int i = 0; i + 4 <= rom.length; i += 4) {
            if (new String(rom, i, 4, StandardCharsets.US_ASCII).equals("$VBT")) {
                vbt = i;
                break;
            }
        }
        if (vbt < 0) {
            problems.add("no 4-byte aligned $VBT");
            return problems;
        }
        problems.addAll(checkVbt(java.util.Arrays.copyOfRange(rom, vbt, rom.length)));
        return problems;
    }

    /** Problems in a VBT: sizes, BDB signature, and exactly one child device, an external DP on port D with AUX D. */
    public static List<String> checkVbt(byte[] vbt) {
        List<String> problems = new ArrayList<>();
        int vbtSize = u16(vbt, 24);
        int bdb = u32(vbt, 28);
        if (u16(vbt, 22) != 48 || vbtSize > vbt.length || bdb != 48) {
            problems.add("VBT header sizes");
            return problems;
        }
        int sum = 0;
        for (int i = 0; i < vbtSize; i++) {
            sum += vbt[i] & 0xFF;
        }
        if ((sum & 0xFF) != 0) {
            problems.add("VBT checksum");
        }
        if (!new String(vbt, bdb, 16, StandardCharsets.US_ASCII).equals("BIOS_DATA_BLOCK ")) {
            problems.add("BDB signature");
        }
        int bdbSize = u16(vbt, bdb + 20);
        if (bdb + bdbSize != vbtSize || u16(vbt, bdb + 18) != 22) {
            problems.add("BDB sizes");
        }
        int children = 0;
        for (int at = bdb + 22; at < bdb + bdbSize; ) {
            int id = u8(vbt, at);
            int size = u16(vbt, at + 1);
            if (id == 2) {
                int childSize = u8(vbt, at + 3 + 4);
                for (int c = at + 3 + 5; c + childSize <= at + 3 + size; c += childSize) {
                    if (u16(vbt, c + 2) == 0) {
                        continue;
                    }
                    children++;
                    if (u16(vbt, c + 2) != 0x68C6 || u8(vbt, c + 16) != 9 || u8(vbt, c + 25) != 0x30) {
                        problems.add("child device is not an external DP on port D with AUX D");
                    }
                    if ((u16(vbt, c + 2) & (1 << 12)) != 0) {
                        problems.add("an internal (eDP) panel");
                    }
                }
            }
            at += 3 + size;
        }
        if (children != 1) {
            problems.add(children + " child devices");
        }
        return problems;
    }
}
