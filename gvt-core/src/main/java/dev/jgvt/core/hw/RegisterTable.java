package dev.jgvt.core.hw;

import static java.util.Objects.requireNonNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The register table of a generation, loaded from a TSV resource (GVT-g's MMIO table as data): one row per
 * register or range with its attributes, golden value and handler name. It is the single source of truth for
 * both MMIO emulation ({@code mmio.RegisterRegistry}) and the command scanner's register policy
 * ({@code cmd.Gen9RegisterPolicy}). Compiled into per-dword arrays over the 2 MiB register file, so every
 * lookup is one array load and allocates nothing. Immutable.
 *
 * <p>Format (whitespace separated; {@code #} starts a comment):
 * <pre>
 * &#64;engine NAME                    an engine ({@link Engine}): ring-relative rows are expanded for it
 * OFFSET COUNT STRIDE NAME ATTRS GOLDEN HANDLER
 * </pre>
 * {@code OFFSET} is a BAR0 offset ({@code 0x2030}) or {@code ring+DELTA}: one row per declared engine at its
 * MMIO base + DELTA, with {@code *} in {@code NAME} replaced by the engine's register prefix (both from
 * {@link Engine}). {@code STRIDE} is bytes
 * between elements ({@code -}: 4). {@code ATTRS} is a comma list of {@link RegisterAttr} codes or {@code -}.
 * {@code GOLDEN} is the reset value ({@code -}: 0). {@code HANDLER} names the handler ({@code -}: none, a
 * plain virtual register). Adding a register with ordinary semantics is one line.
 */
public final class RegisterTable {
    /** The bundled Gen9 (Skylake GT2) table. */
    public static final String GEN9_RESOURCE = "gen9-registers.tsv";
    private static final int DWORDS = Register.FILE_SIZE / 4;
    private static volatile RegisterTable gen9;

    private final List<Register> rows;
    private final Map<String, Integer> engines;
    private final int[] rowIndex = new int[DWORDS];
    private final short[] attrs = new short[DWORDS];
    private final int[] golden = new int[DWORDS];

    private RegisterTable(List<Register> rows, Map<String, Integer> engines, String source, int[] lines) {
        this.rows = List.copyOf(rows);
        this.engines = Map.copyOf(engines);
        Arrays.fill(rowIndex, -1);
        for (int r = 0; r < this.rows.size(); r++) {
            Register row = this.rows.get(r);
            for (int i = 0; i < row.count(); i++) {
                int dw = row.offsetOf(i) >>> 2;
                if (rowIndex[dw] >= 0) {
                    throw new IllegalArgumentException(where(source, lines, r) + "register " + row.nameOf(i) + " at 0x"
                            + Integer.toHexString(row.offsetOf(i)) + " overlaps " + this.rows.get(rowIndex[dw]).name());
                }
                rowIndex[dw] = r;
                attrs[dw] = (short) row.attrBits();
                golden[dw] = row.golden();
            }
        }
    }

    private static String where(String source, int[] lines, int row) {
        return lines == null ? "" : source + ":" + lines[row] + ": ";
    }

    /** A table of the given rows (no engines); overlapping rows are rejected. */
    public static RegisterTable of(List<Register> rows) {
        return new RegisterTable(requireNonNull(rows, "rows is null"), Map.of(), "rows", null);
    }

    /** The bundled Gen9 table, loaded once. */
    public static RegisterTable gen9() {
        RegisterTable table = gen9;
        if (table == null) {
            synchronized (RegisterTable.class) {
                table = gen9;
                if (table == null) {
                    table = parse(GEN9_RESOURCE, resourceLines(GEN9_RESOURCE));
                    gen9 = table;
                }
            }
        }
        return table;
    }

    /** The lines of a table resource next to this class. */
    public static List<String> resourceLines(String resource) {
        try (InputStream in = RegisterTable.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("register table " + resource + " missing");
            }
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses a table. Errors name {@code source} and the line.
     *
     * @throws IllegalArgumentException on a malformed line, an unknown attribute, an undeclared engine use
     *     or overlapping rows
     */
    public static RegisterTable parse(String source, List<String> lines) {
        requireNonNull(source, "source is null");
        Map<String, Integer> engines = new LinkedHashMap<>();
        Map<String, String> prefixes = new LinkedHashMap<>();
        List<Register> rows = new ArrayList<>();
        List<Integer> rowLines = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String at = source + ":" + (i + 1) + ": ";
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String text = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (text.isEmpty()) {
                continue;
            }
            String[] cols = text.split("\\s+");
            try {
                if (cols[0].equals("@engine")) {
                    if (cols.length != 2) {
                        throw new IllegalArgumentException("expected @engine NAME (one of " + java.util.Arrays.toString(Engine.values()) + ")");
                    }
                    Engine engine = engine(cols[1]);
                    engines.put(engine.name(), engine.mmioBase());
                    prefixes.put(engine.name(), engine.registerPrefix());
                    continue;
                }
                if (cols.length != 7) {
                    throw new IllegalArgumentException("expected 7 columns (offset count stride name attrs golden handler), got "
                            + cols.length);
                }
                int count = Integer.decode(cols[1]);
                int stride = cols[2].equals("-") ? 4 : Integer.decode(cols[2]);
                EnumSet<RegisterAttr> set = attrs(cols[4]);
                int value = cols[5].equals("-") ? 0 : (int) Long.decode(cols[5]).longValue();
                String handler = cols[6].equals("-") ? "" : cols[6];
                if (cols[0].startsWith("ring+")) {
                    if (engines.isEmpty()) {
                        throw new IllegalArgumentException("ring-relative row before any @engine line");
                    }
                    if (!cols[3].contains("*")) {
                        throw new IllegalArgumentException("ring-relative row " + cols[3] + " needs * in its name for the engine prefix");
                    }
                    int delta = Integer.decode(cols[0].substring(5));
                    for (Map.Entry<String, Integer> e : engines.entrySet()) {
                        rows.add(new Register(cols[3].replace("*", prefixes.get(e.getKey())), e.getValue() + delta, count,
                                stride, set, value, handler));
                        rowLines.add(i + 1);
                    }
                } else {
                    rows.add(new Register(cols[3], Integer.decode(cols[0]), count, stride, set, value, handler));
                    rowLines.add(i + 1);
                }
            } catch (IllegalArgumentException e) { // includes NumberFormatException
                throw new IllegalArgumentException(at + e.getMessage(), e);
            }
        }
        int[] lineArray = rowLines.stream().mapToInt(Integer::intValue).toArray();
        return new RegisterTable(rows, engines, source, lineArray);
    }

    private static Engine engine(String name) {
        for (Engine engine : Engine.values()) {
            if (engine.name().equals(name)) {
                return engine;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + name + "' (known: " + java.util.Arrays.toString(Engine.values()) + ")");
    }

    private static EnumSet<RegisterAttr> attrs(String column) {
        EnumSet<RegisterAttr> set = EnumSet.noneOf(RegisterAttr.class);
        if (column.equals("-")) {
            return set;
        }
        for (String code : column.split(",")) {
            RegisterAttr attr = RegisterAttr.ofCode(code);
            if (attr == null) {
                throw new IllegalArgumentException("unknown attribute '" + code + "' (known: ro gm mode cmd w1c ctx mem patch pdp)");
            }
            set.add(attr);
        }
        if (set.contains(RegisterAttr.MEMORY_TRANSFER) || set.contains(RegisterAttr.PATCHED) || set.contains(RegisterAttr.PDP)) {
            set.add(RegisterAttr.CMD_ACCESS);
        }
        return set;
    }

    /** The rows, in table order (ring-relative rows expanded, engines in declaration order). */
    public List<Register> rows() {
        return rows;
    }

    /** The declared engines and their MMIO bases. */
    public Map<String, Integer> engines() {
        return engines;
    }

    /** Whether {@code offset} (a BAR0 offset) lies in a register of the table. */
    public boolean isTracked(long offset) {
        return inFile(offset) && rowIndex[(int) offset >>> 2] >= 0;
    }

    /** Whether the register at {@code offset} has {@code attr}; false outside the table. */
    public boolean has(long offset, RegisterAttr attr) {
        return inFile(offset) && (attrs[(int) offset >>> 2] & attr.bit()) != 0;
    }

    /** The row covering {@code offset}, if any. */
    public Optional<Register> rowAt(long offset) {
        if (!inFile(offset) || rowIndex[(int) offset >>> 2] < 0) {
            return Optional.empty();
        }
        return Optional.of(rows.get(rowIndex[(int) offset >>> 2]));
    }

    /** The index in {@link #rows()} of the row covering dword {@code dword}, or -1. */
    public int rowIndexOfDword(int dword) {
        return rowIndex[dword];
    }

    /** The compiled attribute word of dword {@code dword} (0 outside the table). */
    public int attrBitsOfDword(int dword) {
        return attrs[dword];
    }

    /** The golden (reset) value of dword {@code dword} (0 outside the table). */
    public int goldenOfDword(int dword) {
        return golden[dword];
    }

    private static boolean inFile(long offset) {
        return offset >= 0 && offset < Register.FILE_SIZE;
    }
}
