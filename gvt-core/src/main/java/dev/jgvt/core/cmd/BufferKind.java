package dev.jgvt.core.cmd;

/** Where a command was found. */
public enum BufferKind {
    RING("ring"),
    BATCH("batch"),
    SECOND_LEVEL_BATCH("2nd-level batch");

    private final String text;

    BufferKind(String text) {
        this.text = text;
    }

    @Override
    public String toString() {
        return text;
    }
}
