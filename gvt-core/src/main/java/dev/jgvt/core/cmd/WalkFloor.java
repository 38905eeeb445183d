package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;

import static java.util.Objects.requireNonNull;

/**
 * The least any scanner that finds every command boundary has to do: walk a stream's command lengths with one
 * table load per command and no policy, no handler and no shadow copy. Measurements compare the scanner with
 * this floor ({@code gvt bench scan}'s {@code walk_floor_ratio}, JMH {@code ScanFloorBenchmark}; decision 0012).
 */
public final class WalkFloor {
    private WalkFloor() {}

    /**
     * Per DW0 bits 31:16 of {@code engine}'s Gen9 commands: 0 = not a command of the engine, else the length
     * field's width in bits | the fixed length (dwords) &lt;&lt; 8.
     */
    public static int[] lengthTable(Engine engine) {
        requireNonNull(engine, "engine is null");
        CommandTable table = CommandTable.gen9();
        int[] lengths = new int[1 << 16];
        for (int i = 0; i < lengths.length; i++) {
            CommandDef def = table.find(engine, i << 16);
            if (def != null) {
                lengths[i] = def.lengthBits() | def.fixedLength() << 8;
            }
        }
        return lengths;
    }

    /**
     * The bare walk over {@code dwords} with {@code lengths} from {@link #lengthTable}, the common 8-bit length
     * field on a predicted branch of its own. Returns the dword index where it stopped (the end of the stream),
     * or -1 at a dword that is not a command.
     */
    public static int walk(int[] dwords, int[] lengths) {
        int lim = dwords.length;
        int pos = 0;
        while (pos < lim) {
            int header = dwords[pos];
            int e = lengths[header >>> 16];
            if (e == 8) {
                pos += (header & 0xFF) + 2;
                continue;
            }
            if (e == 0) {
                return -1;
            }
            int bits = e & 31;
            pos += bits == 0 ? e >>> 8 : (header & ((1 << bits) - 1)) + 2;
        }
        return pos;
    }
}
