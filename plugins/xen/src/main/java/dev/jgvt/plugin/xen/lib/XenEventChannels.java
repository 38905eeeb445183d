package dev.jgvt.plugin.xen.lib;

/**
 * libxenevtchn: one handle on {@code /dev/xen/evtchn}. A handle is used by one thread at a time (the
 * header says not to share it between threads): the plugin gives each ioreq event loop its own.
 */
public interface XenEventChannels extends AutoCloseable {
    /** {@code xenevtchn_bind_interdomain}; returns the local port. */
    int bindInterdomain(int domid, int remotePort);

    /** {@code xenevtchn_unbind}. */
    void unbind(int localPort);

    /** {@code xenevtchn_notify}: signals the remote end of {@code localPort}. */
    void notify(int localPort);

    /**
     * Waits up to {@code timeoutMillis} for a port to fire ({@code poll} on the handle's fd, then
     * {@code xenevtchn_pending}). The returned port is masked until {@link #unmask}.
     *
     * @return the pending local port, or -1 on timeout
     */
    int pending(long timeoutMillis);

    /** {@code xenevtchn_unmask}. */
    void unmask(int localPort);

    /** {@code xenevtchn_close}; idempotent, unbinds every port of the handle. */
    @Override
    void close();
}
