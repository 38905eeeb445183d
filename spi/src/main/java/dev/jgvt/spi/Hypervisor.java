package dev.jgvt.spi;

/**
 * An opened hypervisor: attaches vGPUs to guests. Closing it detaches every binding it still has.
 *
 * <p>Threading: {@link #attach} may be called concurrently for different requests.
 */
public interface Hypervisor extends AutoCloseable {
    /**
     * Attaches the vGPU whose device model is {@code device} to the guest named by {@code request}.
     * From now on the plugin forwards the guest's config-space and BAR accesses to {@code device}, and
     * the core uses the returned binding's services for that guest.
     *
     * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} if the request's target is not one this plugin
     *     understands, {@link ErrorCode#NOT_FOUND} if the guest does not exist, {@link ErrorCode#ALREADY_EXISTS}
     *     if this vGPU or guest is already attached, {@link ErrorCode#UNSUPPORTED} if the plugin cannot attach
     *     on this platform, {@link ErrorCode#ILLEGAL_STATE} after {@link #close()}
     */
    GuestBinding attach(AttachRequest request, DeviceModel device);

    /** Detaches all bindings and releases the hypervisor. Idempotent; never throws. */
    @Override
    void close();
}
