package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The command definitions of one GPU generation, loaded from data files (one row per command), with an O(1),
 * allocation-free lookup: per engine class a dense {@code int[65536]} indexed by DW0 bits 31:16. MI and 2D rows
 * occupy every index whose high 9 (10) bits match their opcode, so one array load finds any command type.
 *
 * <p>An entry packs: bits 0..9 row index + 1 (0 = no command), bit 10 "has a handler or a single legal length",
 * bits 11..15 the number of length bits (0 = fixed length), bits 16..23 the fixed (or single legal) length,
 * bits 24..28 the {@link Handler}'s ordinal (so the scanner dispatches without touching the row).
 * Loading fails when two rows claim the same opcode on the same engine class.
 */
public final class CommandTable {
    static final int SLOW_PATH = 1 << 10;
    static final int HANDLER_SHIFT = 24;
    private static final int MAX_ROWS = 1023;
    private static final String[] GEN9_FILES = {"mi.tsv", "blt.tsv", "render.tsv", "video.tsv", "vebox.tsv"};

    private static volatile CommandTable gen9;

    private final String generation;
    private final CommandDef[] defs;
    private final int[][] lookup;

    private CommandTable(String generation, List<CommandDef> rows) {
        this.generation = requireNonNull(generation, "generation is null");
        if (rows.size() > MAX_ROWS) {
            throw new IllegalArgumentException("at most " + MAX_ROWS + " rows per table, got " + rows.size());
        }
        this.defs = rows.toArray(CommandDef[]::new);
        this.lookup = new int[Engine.TABLE_CLASSES][1 << 16];
        for (int i = 0; i < defs.length; i++) {
            CommandDef def = defs[i];
            int entry = entry(i, def);
            int spread = 16 - def.opcodeBits();
            int first = def.opcode() << spread;
            for (int engineClass = 0; engineClass < Engine.TABLE_CLASSES; engineClass++) {
                if ((def.engineMask() & (1 << engineClass)) == 0) {
                    continue;
                }
                int[] table = lookup[engineClass];
                for (int k = 0; k < 1 << spread; k++) {
                    int old = table[first | k];
                    if (old != 0) {
                        throw new IllegalStateException(generation + ": duplicate opcode on engine class "
                                + engineClassName(engineClass) + ": " + def.name() + " and "
                                + defs[(old & 0x3FF) - 1].name() + " (DW0 bits 31:16 = 0x"
                                + Integer.toHexString(first | k) + ")");
                    }
                    table[first | k] = entry;
                }
            }
        }
    }

    private static int entry(int index, CommandDef def) {
        boolean slow = def.handler() != Handler.NONE || (def.lengthBits() != 0 && def.fixedLength() != 0);
        return (index + 1) | (slow ? SLOW_PATH : 0) | (def.lengthBits() << 11) | (def.fixedLength() << 16)
                | (def.handler().ordinal() << HANDLER_SHIFT);
    }

    private static String engineClassName(int engineClass) {
        for (Engine engine : Engine.values()) {
            if (engine.tableClass() == engineClass) {
                return engine.name();
            }
        }
        return Integer.toString(engineClass);
    }

    /** The Gen9 (Skylake / Kaby Lake / Coffee Lake) tables, loaded once. */
    public static CommandTable gen9() {
        CommandTable table = gen9;
        if (table == null) {
            synchronized (CommandTable.class) {
                table = gen9;
                if (table == null) {
                    List<CommandDef> rows = new ArrayList<>();
                    for (String file : GEN9_FILES) {
                        rows.addAll(CommandTableParser.parse("gen9/" + file, read("gen9/" + file)));
                    }
                    table = new CommandTable("gen9", rows);
                    gen9 = table;
                }
            }
        }
        return table;
    }

    /** A table from explicit rows (tests, new generations); fails on duplicate opcodes per engine class. */
    public static CommandTable of(String generation, List<CommandDef> rows) {
        return new CommandTable(generation, List.copyOf(rows));
    }

    /** A table from the text of table files (see docs/command-scanner.md for the format). */
    public static CommandTable parse(String generation, List<String> fileNames, List<List<String>> fileLines) {
        List<CommandDef> rows = new ArrayList<>();
        for (int i = 0; i < fileNames.size(); i++) {
            rows.addAll(CommandTableParser.parse(fileNames.get(i), fileLines.get(i)));
        }
        return new CommandTable(generation, rows);
    }

    private static List<String> read(String resource) {
        try (InputStream in = CommandTable.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("command table resource missing: " + resource);
            }
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read command table " + resource, e);
        }
    }

    public String generation() {
        return generation;
    }

    /** All rows, in load order. */
    public List<CommandDef> rows() {
        return List.of(defs);
    }

    /** The packed lookup entry of {@code header} on {@code engine} (0 = not a command of that engine). */
    int entry(Engine engine, int header) {
        return lookup[engine.tableClass()][header >>> 16];
    }

    /** The lookup array of an engine class (hot loops keep it in a local). */
    int[] lookupArray(Engine engine) {
        return lookup[engine.tableClass()];
    }

    /** The row of a non-zero entry. */
    CommandDef def(int entry) {
        return defs[(entry & 0x3FF) - 1];
    }

    /** The command {@code header} starts on {@code engine}, or null when it is not one of that engine. */
    public CommandDef find(Engine engine, int header) {
        int entry = entry(engine, header);
        return entry == 0 ? null : def(entry);
    }

    /** The command {@code header} would start on any engine (to name a wrong-engine command), or null. */
    public CommandDef findOnAnyEngine(int header) {
        for (int[] table : lookup) {
            int entry = table[header >>> 16];
            if (entry != 0) {
                return def(entry);
            }
        }
        return null;
    }

    /** The row with this name, or null. */
    public CommandDef byName(String name) {
        return Arrays.stream(defs).filter(def -> def.name().equals(name)).findFirst().orElse(null);
    }

    /** The handler of a non-zero entry. */
    static Handler handler(int entry) {
        return Handler.ofOrdinal((entry >>> HANDLER_SHIFT) & 31);
    }

    /** Length in dwords of a command from its packed entry and header. */
    static int length(int entry, int header) {
        int bits = (entry >>> 11) & 31;
        return bits == 0 ? (entry >>> 16) & 0xFF : (header & ((1 << bits) - 1)) + 2;
    }
}
