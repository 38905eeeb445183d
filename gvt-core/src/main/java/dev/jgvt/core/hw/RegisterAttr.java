package dev.jgvt.core.hw;

import java.util.Locale;

/**
 * Register attributes (GVT-g's per-register {@code F_*} flags and the command-access classes of its
 * command parser), as written in the register table's {@code attrs} column.
 */
public enum RegisterAttr {
    /** {@code ro}: guest writes keep the value (the register reflects device state). GVT-g's {@code F_RO}. */
    READ_ONLY("ro"),
    /** {@code gm}: the register holds a graphics memory address ({@code F_GMADR}). */
    GM_ADDRESS("gm"),
    /** {@code mode}: the upper 16 bits of a write enable the lower 16 ({@code F_MODE_MASK}). */
    MODE_MASK("mode"),
    /** {@code cmd}: LRI and PIPE_CONTROL post-sync writes from guest commands may target it ({@code F_CMD_ACCESS}). */
    CMD_ACCESS("cmd"),
    /** {@code w1c}: writing 1 to a bit clears it. */
    WRITE_1_CLEAR("w1c"),
    /** {@code ctx}: saved and restored in the logical context image ({@code F_SR_IN_CTX}). */
    IN_CONTEXT("ctx"),
    /** {@code mem}: MI_LOAD_REGISTER_MEM / MI_STORE_REGISTER_MEM may name it (implies {@code cmd}). */
    MEMORY_TRANSFER("mem"),
    /** {@code patch}: an LRI to it must not reach hardware; the shadow command is patched (implies {@code cmd}). */
    PATCHED("patch"),
    /** {@code pdp}: a page-directory pointer; an LRI goes through the shadow-PPGTT hook (implies {@code cmd}). */
    PDP("pdp");

    private final String code;

    RegisterAttr(String code) {
        this.code = code;
    }

    /** The spelling in the table. */
    public String code() {
        return code;
    }

    /** This attribute's bit in a compiled attribute word. */
    public int bit() {
        return 1 << ordinal();
    }

    /** The attribute spelled {@code code} in the table, or null. */
    static RegisterAttr ofCode(String code) {
        for (RegisterAttr a : values()) {
            if (a.code.equals(code.toLowerCase(Locale.ROOT))) {
                return a;
            }
        }
        return null;
    }
}
