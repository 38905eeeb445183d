package dev.jgvt.plugin.kvm.server;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;

/** The errno of an error reply for a failure, and the error code of an errno a peer replied with. */
final class Errnos {
    static final int ETIMEDOUT = 110;

    private Errnos() {}

    static int of(RuntimeException e) {
        if (e instanceof IommuException i) {
            return i.errno();
        }
        if (e instanceof GvtException g) {
            return switch (g.code()) {
                case INVALID_ARGUMENT, OUT_OF_RANGE, PROTOCOL_ERROR, INCOMPATIBLE_VERSION, GUEST_ERROR -> Errno.EINVAL;
                case PERMISSION_DENIED -> Errno.EPERM;
                case NOT_MAPPED, NOT_FOUND -> Errno.ENOENT;
                case ALREADY_EXISTS -> Errno.EEXIST;
                case LIMIT_EXCEEDED, NO_SPACE -> Errno.ENOSPC;
                case BUSY -> Errno.EBUSY;
                case UNSUPPORTED -> Errno.ENOTSUP;
                case TIMEOUT -> ETIMEDOUT;
                case ILLEGAL_STATE, IO_ERROR, INTERNAL -> Errno.EIO;
            };
        }
        return Errno.EIO;
    }

    static ErrorCode code(int errno) {
        return switch (errno) {
            case Errno.EINVAL -> ErrorCode.INVALID_ARGUMENT;
            case Errno.EPERM, Errno.EACCES -> ErrorCode.PERMISSION_DENIED;
            case Errno.ENOENT -> ErrorCode.NOT_MAPPED;
            case Errno.EEXIST -> ErrorCode.ALREADY_EXISTS;
            case Errno.ENOSPC -> ErrorCode.NO_SPACE;
            case Errno.EBUSY -> ErrorCode.BUSY;
            case Errno.ENOTSUP, Errno.ENOSYS -> ErrorCode.UNSUPPORTED;
            case ETIMEDOUT -> ErrorCode.TIMEOUT;
            default -> ErrorCode.IO_ERROR;
        };
    }
}
