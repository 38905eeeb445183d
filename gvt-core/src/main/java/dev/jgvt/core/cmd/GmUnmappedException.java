package dev.jgvt.core.cmd;

/** A graphics address whose GTT entry is not valid (never written, or pointing outside guest RAM). */
public final class GmUnmappedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final long address;

    public GmUnmappedException(long address) {
        super(String.format("graphics address 0x%x is not mapped", address), null, false, false);
        this.address = address;
    }

    /** The first unmapped byte. */
    public long address() {
        return address;
    }
}
