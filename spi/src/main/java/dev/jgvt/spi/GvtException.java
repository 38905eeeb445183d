package dev.jgvt.spi;

import static java.util.Objects.requireNonNull;

/**
 * The one exception type that crosses the SPI in either direction. It is unchecked so that SPI
 * interfaces stay readable; every SPI method documents which {@link ErrorCode}s it can raise.
 */
public final class GvtException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public GvtException(ErrorCode code, String message) {
        super(requireNonNull(message, "message is null"));
        this.code = requireNonNull(code, "code is null");
    }

    public GvtException(ErrorCode code, String message, Throwable cause) {
        super(requireNonNull(message, "message is null"), cause);
        this.code = requireNonNull(code, "code is null");
    }

    /** What kind of failure this is. */
    public ErrorCode code() {
        return code;
    }

    @Override
    public String toString() {
        return "GvtException[" + code + "]: " + getMessage();
    }
}
