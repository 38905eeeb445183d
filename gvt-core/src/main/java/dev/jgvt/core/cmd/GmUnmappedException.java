package dev.jgvt.core.cmd;

/**
 * A graphics address whose GTT entry is not valid (never written, or pointing outside guest RAM). Cheap to
 * throw (no stack trace, message built only when asked): the scanner meets it whenever it reads ahead into an
 * unmapped page past the end of a batch.
 */
public final class GmUnmappedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final long address;

    public GmUnmappedException(long address) {
        super(null, null, false, false);
        this.address = address;
    }

    @Override
    public String getMessage() {
        return String.format("graphics address 0x%x is not mapped", address);
    }

    /** The first unmapped byte. */
    public long address() {
        return address;
    }
}
