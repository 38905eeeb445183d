package dev.jgvt.spi;

/**
 * Pinning of guest frames, like VFIO's {@code vfio_pin_pages}: a pinned frame stays backed by the same
 * host memory until it is unpinned, so the core (and through it a device) may access it directly.
 *
 * <p>Pins are reference-counted per frame: pinning a frame twice needs two unpins. Before a guest RAM
 * range goes away the plugin calls {@link DeviceModel#dmaUnmapped}, and the core closes every
 * {@link PinnedPages} touching that range before that call returns.
 *
 * <p>Threading: safe from any thread.
 */
public interface GuestPages {
    /** At most this many frames per {@link #pin} call (VFIO's {@code VFIO_PIN_PAGES_MAX_ENTRIES}). */
    int MAX_PAGES_PER_PIN = 512;

    /**
     * Pins {@code count} consecutive guest frames starting at {@code gfn}.
     *
     * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} if {@code count < 1} or {@code gfn < 0},
     *     {@link ErrorCode#LIMIT_EXCEEDED} if {@code count > 512},
     *     {@link ErrorCode#NOT_MAPPED} if any frame is not guest RAM (nothing stays pinned then),
     *     {@link ErrorCode#PERMISSION_DENIED} if {@code access} asks for write on a read-only range,
     *     {@link ErrorCode#ILLEGAL_STATE} after detach, {@link ErrorCode#IO_ERROR} if the platform refused
     */
    PinnedPages pin(long gfn, int count, Access access);

    /** The access a pin is for. */
    enum Access {
        READ,
        WRITE,
        READ_WRITE;

        public boolean writes() {
            return this != READ;
        }
    }
}
