package dev.jgvt.guest;

/** Something the guest driver observed that a correct device would not do; the message says what. */
public final class GuestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GuestException(String message) {
        super(message);
    }
}
