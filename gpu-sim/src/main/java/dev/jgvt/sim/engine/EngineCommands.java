package dev.jgvt.sim.engine;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * What the engines execute: the simulated GPU's own command decoder ({@link HwCommandTable}, for lengths and
 * names; not the scanner's tables) and one operation per executed command. Every other command of the decoder is
 * state: decoded, skipped.
 */
final class EngineCommands {
    /** One executed command. */
    @FunctionalInterface
    interface Op {
        void execute(CommandStreamer streamer, int length);
    }

    private static final Map<String, Op> OPS = Map.ofEntries(
            Map.entry("MI_BATCH_BUFFER_START", CommandStreamer::batchBufferStart),
            Map.entry("MI_BATCH_BUFFER_END", CommandStreamer::batchBufferEnd),
            Map.entry("MI_ARB_CHECK", CommandStreamer::arbCheck),
            Map.entry("MI_MATH", CommandStreamer::math),
            Map.entry("MI_CONDITIONAL_BATCH_BUFFER_END", (s, length) -> s.memory.conditionalBatchBufferEnd(length)),
            Map.entry("MI_STORE_DATA_IMM", (s, length) -> s.memory.storeDataImm(length)),
            Map.entry("MI_LOAD_REGISTER_IMM", (s, length) -> s.memory.loadRegisterImm(length)),
            Map.entry("MI_STORE_REGISTER_MEM", (s, length) -> s.memory.storeRegisterMem(length)),
            Map.entry("MI_LOAD_REGISTER_MEM", (s, length) -> s.memory.loadRegisterMem(length)),
            Map.entry("MI_LOAD_REGISTER_REG", (s, length) -> s.memory.loadRegisterReg(length)),
            Map.entry("MI_FLUSH_DW", (s, length) -> s.memory.flushDw(length)),
            Map.entry("MI_USER_INTERRUPT", CommandStreamer::userInterrupt),
            Map.entry("PIPE_CONTROL", (s, length) -> s.memory.pipeControl(length)),
            Map.entry("XY_COLOR_BLT", CommandStreamer::colorBlt),
            Map.entry("XY_SRC_COPY_BLT", CommandStreamer::srcCopyBlt),
            Map.entry("XY_FAST_COPY_BLT", CommandStreamer::fastCopyBlt));

    private static volatile EngineCommands gen9;

    final HwCommandTable table;
    private final Map<HwCommand, Op> ops = new IdentityHashMap<>();

    EngineCommands(HwCommandTable table) {
        this.table = table;
        for (HwCommand def : table.rows()) {
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
                    commands = new EngineCommands(HwCommandTable.gen9());
                    gen9 = commands;
                }
            }
        }
        return commands;
    }

    /** The operation of {@code def}, or null for a state-only command (MI_NOOP, 3DSTATE_*, ...). */
    Op op(HwCommand def) {
        return ops.get(def);
    }
}
