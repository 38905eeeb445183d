package dev.jgvt.sim.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The simulated GPU's own Gen9 command decoder, loaded from {@code gen9-hw-commands.tsv}: per engine class a
 * dense array over DW0 bits 31:16 (built by matching every value against every row's pattern, so two rows that
 * claim one header on one engine class fail the load). It shares nothing with the scanner's tables: the two are
 * derived from the same public facts independently, and a workload the scanner sized differently from this
 * decoder stops the simulated engine.
 */
final class HwCommandTable {
    /** Engine classes: render, blitter, video, video enhancement. */
    static final int CLASSES = 4;
    private static final String RESOURCE = "gen9-hw-commands.tsv";
    private static volatile HwCommandTable gen9;

    private final List<HwCommand> rows;
    private final short[][] lookup = new short[CLASSES][65536];

    HwCommandTable(List<HwCommand> rows) {
        this.rows = List.copyOf(rows);
        if (rows.size() >= Short.MAX_VALUE) {
            throw new IllegalArgumentException("too many rows: " + rows.size());
        }
        for (int i = 0; i < rows.size(); i++) {
            HwCommand c = rows.get(i);
            int top = c.value() >>> 16;
            int topMask = c.mask() >>> 16;
            for (int cls = 0; cls < CLASSES; cls++) {
                if ((c.engineClasses() & (1 << cls)) == 0) {
                    continue;
                }
                for (int h = 0; h < 65536; h++) {
                    if ((h & topMask) == top) {
                        if (lookup[cls][h] != 0) {
                            throw new IllegalStateException(c.name() + " and " + rows.get(lookup[cls][h] - 1).name()
                                    + " both claim DW0 0x" + Integer.toHexString(h << 16) + " on engine class " + cls);
                        }
                        lookup[cls][h] = (short) (i + 1);
                    }
                }
            }
        }
    }

    static HwCommandTable gen9() {
        HwCommandTable table = gen9;
        if (table == null) {
            synchronized (HwCommandTable.class) {
                table = gen9;
                if (table == null) {
                    table = new HwCommandTable(parse(read()));
                    gen9 = table;
                }
            }
        }
        return table;
    }

    List<HwCommand> rows() {
        return rows;
    }

    /** The command {@code header} starts on engine class {@code cls}, or null. */
    HwCommand find(int cls, int header) {
        int i = lookup[cls][header >>> 16];
        return i == 0 ? null : rows.get(i - 1);
    }

    /** The command {@code header} starts on some engine class (to name a wrong-engine command), or null. */
    HwCommand findOnAnyEngine(int header) {
        for (int cls = 0; cls < CLASSES; cls++) {
            HwCommand c = find(cls, header);
            if (c != null) {
                return c;
            }
        }
        return null;
    }

    private static List<String> read() {
        try (InputStream in = HwCommandTable.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCE);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses the table's lines (comments and blank lines skipped); a malformed row fails naming its line. */
    static List<HwCommand> parse(List<String> lines) {
        List<HwCommand> rows = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] c = line.split("\\s+");
            try {
                int classes = 0;
                for (String e : c[1].split(",")) {
                    classes |= 1 << switch (e) {
                        case "RCS" -> 0;
                        case "BCS" -> 1;
                        case "VCS" -> 2;
                        case "VECS" -> 3;
                        default -> throw new IllegalArgumentException("engine " + e);
                    };
                }
                String[] vm = c[2].split("/");
                int value = Integer.parseUnsignedInt(vm[0].substring(2), 16);
                int mask = Integer.parseUnsignedInt(vm[1].substring(2), 16);
                int bits = 0;
                int bias = 1;
                int fixed = 0;
                if (c[3].startsWith("fixed:")) {
                    fixed = Integer.parseInt(c[3].substring(6));
                } else if (c[3].startsWith("len:")) {
                    String[] bb = c[3].substring(4).split("\\+");
                    bits = Integer.parseInt(bb[0]);
                    bias = Integer.parseInt(bb[1]);
                } else {
                    throw new IllegalArgumentException("length " + c[3]);
                }
                rows.add(new HwCommand(c[0], classes, value, mask, bits, bias, fixed));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(RESOURCE + ":" + (n + 1) + ": " + e.getMessage(), e);
            }
        }
        return rows;
    }
}
