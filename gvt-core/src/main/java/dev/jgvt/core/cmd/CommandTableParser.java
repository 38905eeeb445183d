package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses command table files: one row per line, whitespace-separated columns
 * {@code name opcode engines length address-dwords handler}; {@code #} starts a comment.
 */
final class CommandTableParser {
    private CommandTableParser() {}

    static List<CommandDef> parse(String file, List<String> lines) {
        List<CommandDef> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String text = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (text.isEmpty()) {
                continue;
            }
            try {
                rows.add(row(text.split("\\s+")));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return rows;
    }

    private static CommandDef row(String[] cols) {
        if (cols.length != 6) {
            throw new IllegalArgumentException("expected 6 columns (name opcode engines length address-dwords handler), got "
                    + cols.length);
        }
        String name = cols[0];
        Opcode opcode = opcode(cols[1]);
        int engines = engines(cols[2]);
        String[] length = cols[3].split(":");
        int lengthBits;
        int fixed;
        switch (length[0]) {
            case "fixed" -> {
                expectParts(length, 2, cols[3]);
                lengthBits = 0;
                fixed = Integer.parseInt(length[1]);
            }
            case "var" -> {
                expectParts(length, 2, cols[3]);
                lengthBits = Integer.parseInt(length[1]);
                fixed = 0;
            }
            case "varfixed" -> {
                expectParts(length, 3, cols[3]);
                lengthBits = Integer.parseInt(length[1]);
                fixed = Integer.parseInt(length[2]);
            }
            default -> throw new IllegalArgumentException("bad length rule '" + cols[3] + "'");
        }
        int addr = 0;
        if (!cols[4].equals("-")) {
            for (String dw : cols[4].split(",")) {
                int index = Integer.parseInt(dw);
                if (index < 1 || index > 31) {
                    throw new IllegalArgumentException("address dword out of range: " + index);
                }
                addr |= 1 << index;
            }
        }
        Handler handler = Handler.fromColumn(cols[5]);
        CommandType type = opcode.type;
        if (type == CommandType.VIDEO && engines == (1 << Engine.VECS.tableClass())) {
            type = CommandType.VEBOX;
        }
        return new CommandDef(name, type, opcode.bits, opcode.value, engines, lengthBits, fixed, addr, handler);
    }

    private static void expectParts(String[] parts, int n, String text) {
        if (parts.length != n) {
            throw new IllegalArgumentException("bad length rule '" + text + "'");
        }
    }

    private record Opcode(CommandType type, int bits, int value) {}

    private static Opcode opcode(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("opcode needs a prefix (mi:, 2d:, 3d:, mfx:, vd:): " + text);
        }
        String[] f = text.substring(colon + 1).split("/");
        return switch (text.substring(0, colon)) {
            case "mi" -> new Opcode(CommandType.MI, 9, field(f, 0, 1, 6, text));
            case "2d" -> new Opcode(CommandType.BLITTER, 10, (2 << 7) | field(f, 0, 1, 7, text));
            case "3d" -> new Opcode(CommandType.RENDER, 16,
                    (3 << 13) | (field(f, 0, 3, 2, text) << 11) | (field(f, 1, 3, 3, text) << 8) | field(f, 2, 3, 8, text));
            case "mfx" -> new Opcode(CommandType.VIDEO, 16, (3 << 13) | (field(f, 0, 4, 2, text) << 11)
                    | (field(f, 1, 4, 3, text) << 8) | (field(f, 2, 4, 3, text) << 5) | field(f, 3, 4, 5, text));
            case "vd" -> new Opcode(CommandType.VIDEO, 16,
                    (3 << 13) | (field(f, 0, 3, 2, text) << 11) | (field(f, 1, 3, 4, text) << 7) | field(f, 2, 3, 7, text));
            default -> throw new IllegalArgumentException("unknown opcode prefix in " + text);
        };
    }

    private static int field(String[] fields, int index, int count, int bits, String text) {
        if (fields.length != count) {
            throw new IllegalArgumentException("opcode " + text + " needs " + count + " fields");
        }
        int value = Integer.decode(fields[index]);
        if (value < 0 || value >= 1 << bits) {
            throw new IllegalArgumentException("opcode field " + fields[index] + " of " + text + " exceeds " + bits + " bits");
        }
        return value;
    }

    private static int engines(String text) {
        if (text.equals("ALL")) {
            return (1 << Engine.TABLE_CLASSES) - 1;
        }
        int mask = 0;
        for (String name : text.split("\\|")) {
            mask |= 1 << Engine.valueOf(name).tableClass();
        }
        return mask;
    }
}
