package dev.jgvt.plugin.kvm.iommu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;

/**
 * A failed software-IOMMU operation with both results a caller may need: the errno the kernel's type1
 * backend would return (for a vfio-user error reply) and the SPI {@link ErrorCode} (for the core). The
 * message names the operation and the offending values.
 */
public final class IommuException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final ErrorCode code;

    /** A failure with the errno a VFIO/vfio-user peer would see and the SPI code; the errno's name is appended. */
    public IommuException(int errno, ErrorCode code, String message) {
        super(requireNonNull(message, "message is null") + " (" + Errno.name(errno) + ")");
        this.errno = errno;
        this.code = requireNonNull(code, "code is null");
    }

    IommuException(int errno, ErrorCode code, String message, Throwable cause) {
        this(errno, code, message);
        initCause(cause);
    }

    /** The errno type1 would return ({@link Errno#EINVAL}, EEXIST, ENOSPC, EPERM, E2BIG, EBUSY...). */
    public int errno() {
        return errno;
    }

    /** The SPI error kind. */
    public ErrorCode code() {
        return code;
    }

    /** The same failure as the SPI's exception type. */
    public GvtException toGvt() {
        return new GvtException(code, getMessage(), this);
    }
}
