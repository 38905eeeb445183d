package dev.jgvt.core.mmio;

/**
 * Register attributes (GVT-g's per-dword {@code F_*} flags). Compiled into a {@code short} per dword of the
 * register file for lookups on the access path.
 */
public enum Attr {
    /** Guest writes keep their value (the register reflects device state). GVT-g's {@code F_RO}. */
    READ_ONLY,
    /** The register holds a graphics memory address ({@code F_GMADR}). */
    GM_ADDRESS,
    /** The upper 16 bits of a write are a write-enable mask for the lower 16 ({@code F_MODE_MASK}). */
    MODE_MASK,
    /** Guest commands (LRI/SRM/LRM) may access it ({@code F_CMD_ACCESS}). */
    CMD_ACCESS,
    /** Writing 1 to a bit clears it. */
    WRITE_1_CLEAR,
    /** Saved and restored in the logical context image ({@code F_SR_IN_CTX}). */
    IN_CONTEXT;

    /** This attribute's bit in a compiled attribute word. */
    public int bit() {
        return 1 << ordinal();
    }
}
