package dev.jgvt.spi;

/**
 * Write tracking of guest frames (write protection). While a frame is tracked, every guest write to it is
 * trapped by the hypervisor, <b>committed to guest RAM first</b>, and then reported to
 * {@link DeviceModel#trackedWrite} with the written bytes (SPI contract 1). Reads are not trapped.
 *
 * <p>Tracking is reference-counted per frame: two {@link #track} calls need two {@link #untrack} calls.
 * Threading: safe from any thread.
 */
public interface PageTracker {
    /**
     * Starts tracking guest frame {@code gfn}.
     *
     * @throws GvtException {@link ErrorCode#NOT_MAPPED} if the frame is not guest RAM,
     *     {@link ErrorCode#ILLEGAL_STATE} after detach, {@link ErrorCode#IO_ERROR} if the platform refused,
     *     {@link ErrorCode#UNSUPPORTED} if guest writes cannot be trapped for this guest right now (for
     *     example a VMM that did not negotiate write tracking); the core then keeps the frame registered but
     *     unprotected and re-validates what it derived from it before use, as without a tracker
     */
    void track(long gfn);

    /**
     * Stops tracking guest frame {@code gfn} (drops one reference).
     *
     * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} if the frame is not tracked,
     *     {@link ErrorCode#ILLEGAL_STATE} after detach
     */
    void untrack(long gfn);

    /** Whether {@code gfn} is tracked right now. */
    boolean isTracked(long gfn);
}
