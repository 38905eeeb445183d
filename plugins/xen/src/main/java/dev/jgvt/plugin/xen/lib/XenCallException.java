package dev.jgvt.plugin.xen.lib;

import dev.jgvt.plugin.xen.abi.Errno;

/**
 * A Xen library call that returned failure: the C convention of -1 (or NULL) with {@code errno}, carried
 * as an exception inside the plugin. It never crosses the SPI: the plugin turns it into a
 * {@code GvtException} that names the call and the errno.
 */
public final class XenCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public XenCallException(String call, int errno) {
        super(call + " failed: " + Errno.name(errno));
        this.call = call;
        this.errno = errno;
    }

    public XenCallException(String call, int errno, String detail) {
        super(call + " failed: " + Errno.name(errno) + " (" + detail + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The C function (or hypercall) that failed. */
    public String call() {
        return call;
    }

    /** The positive errno it reported. */
    public int errno() {
        return errno;
    }
}
