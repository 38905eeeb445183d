package dev.jgvt.sim.engine;

import static java.util.Objects.requireNonNull;

/**
 * One command of the simulated GPU's decoder ({@code gen9-hw-commands.tsv}): a DW0 pattern, the engine classes
 * whose command streamers accept it, and its length rule.
 *
 * @param name the command's name
 * @param engineClasses bit set of engine classes: 1 render, 2 blitter, 4 video, 8 video enhancement
 * @param value DW0 bits that identify the command
 * @param mask which DW0 bits {@code value} fixes (always within bits 31:16)
 * @param lengthBits width of the length field at DW0 bit 0 (0 = fixed length)
 * @param bias what the length field is short of the total length
 * @param fixedLength the length of a fixed-length command
 */
record HwCommand(String name, int engineClasses, int value, int mask, int lengthBits, int bias, int fixedLength) {
    HwCommand {
        requireNonNull(name, "name is null");
        if ((mask & 0xFFFF) != 0 || (value & ~mask) != 0) {
            throw new IllegalArgumentException(name + ": pattern 0x" + Integer.toHexString(value) + "/0x"
                    + Integer.toHexString(mask) + " must fix bits 31:16 only");
        }
        if (engineClasses <= 0 || engineClasses > 15 || lengthBits < 0 || lengthBits > 16
                || (lengthBits == 0 && fixedLength < 1) || bias < 1) {
            throw new IllegalArgumentException(name + ": bad engines or length rule");
        }
    }

    /** Total length in dwords of the command whose first dword is {@code header}. */
    int length(int header) {
        return lengthBits == 0 ? fixedLength : (header & ((1 << lengthBits) - 1)) + bias;
    }
}
