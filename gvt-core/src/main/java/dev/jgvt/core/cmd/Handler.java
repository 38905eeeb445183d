package dev.jgvt.core.cmd;

import java.util.Locale;

/** What the scanner does with a command beyond finding its length; a table row names one of these. */
public enum Handler {
    /** Nothing: the command is allowed as it is. */
    NONE,
    /** Forbidden command: the workload is rejected. */
    REJECT,
    BB_START,
    BB_END,
    LOAD_REGISTER_IMM,
    STORE_REGISTER_MEM,
    LOAD_REGISTER_MEM,
    LOAD_REGISTER_REG,
    STORE_DATA_IMM,
    FLUSH_DW,
    PIPE_CONTROL,
    ATOMIC,
    SEMAPHORE_WAIT,
    USER_INTERRUPT,
    WAIT_FOR_EVENT,
    DISPLAY_FLIP,
    /** Audit the 64-bit GGTT addresses in the row's address dwords (4 bytes each). */
    GGTT_ADDRESS,
    /** MFX_WAIT: one dword, and only with a zero DWord Length field (bits 5:0). */
    MFX_WAIT;

    private static final Handler[] VALUES = values();

    static Handler ofOrdinal(int ordinal) {
        return VALUES[ordinal];
    }

    /** The handler for a table's handler column ({@code -} is {@link #NONE}). */
    static Handler fromColumn(String column) {
        if (column.equals("-")) {
            return NONE;
        }
        return valueOf(column.toUpperCase(Locale.ROOT));
    }
}
