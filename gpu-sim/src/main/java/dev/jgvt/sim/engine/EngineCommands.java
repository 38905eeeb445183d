package dev.jgvt.sim.engine;

import dev.jgvt.core.cmd.CommandDef;
import dev.jgvt.core.cmd.CommandTable;
import dev.jgvt.core.cmd.CommandType;
import dev.jgvt.core.cmd.Handler;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the engines execute: the core's Gen9 command tables (for lengths and names) plus the commands the
 * hardware has and the scanner's tables do not list, and one row per executed command naming its operation.
 * Every other command of the table is state: decoded, skipped.
 */
final class EngineCommands {
    /** XY_FAST_COPY_BLT (2D opcode 0x42, BCS, 8 length bits): not in the scanner's tables, so the scanner rejects it. */
    static final CommandDef XY_FAST_COPY_BLT = new CommandDef("XY_FAST_COPY_BLT", CommandType.BLITTER, 10,
            (2 << 7) | 0x42, 1 << 1, 8, 0, (1 << 4) | (1 << 8), Handler.NONE);

    /** One executed command. */
    @FunctionalInterface
    interface Op {
        void execute(CommandStreamer streamer, int length);
    }

    private static final Map<String, Op> OPS = Map.ofEntries(
            Map.entry("MI_BATCH_BUFFER_START", CommandStreamer::batchBufferStart),
            Map.entry("MI_BATCH_BUFFER_END", CommandStreamer::batchBufferEnd),
            Map.entry("MI_STORE_DATA_IMM", CommandStreamer::storeDataImm),
            Map.entry("MI_LOAD_REGISTER_IMM", CommandStreamer::loadRegisterImm),
            Map.entry("MI_STORE_REGISTER_MEM", CommandStreamer::storeRegisterMem),
            Map.entry("MI_LOAD_REGISTER_MEM", CommandStreamer::loadRegisterMem),
            Map.entry("MI_LOAD_REGISTER_REG", CommandStreamer::loadRegisterReg),
            Map.entry("MI_FLUSH_DW", CommandStreamer::flushDw),
            Map.entry("MI_USER_INTERRUPT", CommandStreamer::userInterrupt),
            Map.entry("PIPE_CONTROL", CommandStreamer::pipeControl),
            Map.entry("XY_COLOR_BLT", CommandStreamer::colorBlt),
            Map.entry("XY_SRC_COPY_BLT", CommandStreamer::srcCopyBlt),
            Map.entry("XY_FAST_COPY_BLT", CommandStreamer::fastCopyBlt));

    private static volatile EngineCommands gen9;

    final CommandTable table;
    private final Map<CommandDef, Op> ops = new IdentityHashMap<>();

    private EngineCommands(CommandTable table) {
        this.table = table;
        for (CommandDef def : table.rows()) {
            Op op = OPS.get(def.name());
            if (op != null) {
                ops.put(def, op);
            }
        }
        if (ops.size() != OPS.size()) {
            throw new IllegalStateException("the command table lacks executed commands: have " + ops.size() + " of "
                    + OPS.keySet());
        }
    }

    static EngineCommands gen9() {
        EngineCommands commands = gen9;
        if (commands == null) {
            synchronized (EngineCommands.class) {
                commands = gen9;
                if (commands == null) {
                    List<CommandDef> rows = new ArrayList<>(CommandTable.gen9().rows());
                    rows.add(XY_FAST_COPY_BLT);
                    commands = new EngineCommands(CommandTable.of("gen9-engine", rows));
                    gen9 = commands;
                }
            }
        }
        return commands;
    }

    /** The operation of {@code def}, or null for a state-only command (MI_NOOP, MI_ARB_CHECK, 3DSTATE_*, ...). */
    Op op(CommandDef def) {
        return ops.get(def);
    }
}
