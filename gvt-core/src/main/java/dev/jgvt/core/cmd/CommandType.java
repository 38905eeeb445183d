package dev.jgvt.core.cmd;

/** DW0 bits 31:29 and how the opcode is built from the header (gvt-g.md §3.1). */
public enum CommandType {
    /** Type 0: opcode = DW0 bits 28:23. */
    MI(0),
    /** Type 2: opcode = DW0 bits 28:22. */
    BLITTER(2),
    /** Type 3 on RCS: subtype 28:27, opcode 26:24, sub-opcode 23:16. */
    RENDER(3),
    /** Type 3 on VCS: pipeline 28:27, opcode 26:24, sub-opcode A 23:21, B 20:16 (or opcode 26:23, command 22:16). */
    VIDEO(3),
    /** Type 3 on VECS: same layout as {@link #VIDEO}. */
    VEBOX(3);

    private final int typeBits;

    CommandType(int typeBits) {
        this.typeBits = typeBits;
    }

    /** The value of DW0 bits 31:29. */
    public int typeBits() {
        return typeBits;
    }
}
