package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;

import static java.util.Objects.requireNonNull;

/**
 * One row of a command table.
 *
 * @param name the command's name as the PRM/genxml spells it
 * @param type the command type (how DW0 is split into opcode fields)
 * @param opcodeBits how many high bits of DW0 identify the command: 9 (MI), 10 (2D) or 16 (type 3)
 * @param opcode the value of those bits ({@code DW0 >>> (32 - opcodeBits)})
 * @param engineMask bit {@code 1 << Engine.tableClass()} per engine class the command is legal on
 * @param lengthBits 0 for a fixed length, else the number of low DW0 bits holding "length - 2"
 * @param fixedLength the length in dwords for fixed rows; for length-field rows with a single legal value, that
 *     value; else 0
 * @param addressDwords bit i set = dword i holds a graphics address
 * @param handler what the scanner does beyond finding the length
 */
public record CommandDef(String name, CommandType type, int opcodeBits, int opcode, int engineMask, int lengthBits,
        int fixedLength, int addressDwords, Handler handler) {
    public CommandDef {
        requireNonNull(name, "name is null");
        requireNonNull(type, "type is null");
        requireNonNull(handler, "handler is null");
        if (opcodeBits != 9 && opcodeBits != 10 && opcodeBits != 16) {
            throw new IllegalArgumentException(name + ": opcode bits must be 9, 10 or 16, not " + opcodeBits);
        }
        if (opcode < 0 || opcode >= 1 << opcodeBits || opcode >>> (opcodeBits - 3) != type.typeBits()) {
            throw new IllegalArgumentException(name + ": opcode 0x" + Integer.toHexString(opcode)
                    + " does not fit " + opcodeBits + " bits of command type " + type);
        }
        if (engineMask <= 0 || engineMask >= 1 << Engine.TABLE_CLASSES) {
            throw new IllegalArgumentException(name + ": bad engine mask " + engineMask);
        }
        if (lengthBits < 0 || lengthBits > 16 || (lengthBits == 0 && (fixedLength < 1 || fixedLength > 255))
                || fixedLength < 0 || fixedLength > 255) {
            throw new IllegalArgumentException(name + ": bad length rule: bits " + lengthBits + ", length " + fixedLength);
        }
    }

    /** Whether the command may appear on {@code engine}. */
    public boolean legalOn(Engine engine) {
        return (engineMask & (1 << engine.tableClass())) != 0;
    }

    /** The length in dwords of the command whose first dword is {@code header}. */
    public int length(int header) {
        return lengthBits == 0 ? fixedLength : (header & ((1 << lengthBits) - 1)) + 2;
    }

    /** DW0 of this command with a zero length field. */
    public int header() {
        return opcode << (32 - opcodeBits);
    }

    /** DW0 of this command for a total length of {@code dwords} (which the length rule must allow). */
    public int header(int dwords) {
        if (lengthBits == 0) {
            if (dwords != fixedLength) {
                throw new IllegalArgumentException(name + " is always " + fixedLength + " dwords, not " + dwords);
            }
            return header();
        }
        if (dwords < 2 || dwords - 2 >= 1 << lengthBits) {
            throw new IllegalArgumentException(name + " cannot be " + dwords + " dwords long");
        }
        return header() | (dwords - 2);
    }

    /** The smallest and largest length the header can encode. */
    public int maxLength() {
        return lengthBits == 0 ? fixedLength : (1 << lengthBits) + 1;
    }
}
