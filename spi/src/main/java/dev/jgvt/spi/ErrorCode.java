package dev.jgvt.spi;

/**
 * The closed set of failure kinds that cross the SPI. Each code says who is at fault and what a caller
 * can do; the exception's message says what exactly was wrong.
 */
public enum ErrorCode {
    /** An argument is malformed: a negative length, a size that is not 1, 2, 4 or 8, an unknown region. */
    INVALID_ARGUMENT,
    /** An offset or address lies outside the object it addresses (a region, a page range, guest RAM). */
    OUT_OF_RANGE,
    /** A guest physical address is not backed by guest RAM (never mapped, or unmapped since). */
    NOT_MAPPED,
    /** The access is not allowed (writing a read-only mapping, pinning for write a read-only range). */
    PERMISSION_DENIED,
    /** A per-call or per-object limit was exceeded (more than 512 pages in one pin, 65535 DMA mappings). */
    LIMIT_EXCEEDED,
    /** An object with that name or range exists already. */
    ALREADY_EXISTS,
    /** The object was not found (an unknown vGPU, type or plugin). */
    NOT_FOUND,
    /** A resource is exhausted (graphics memory, fences, DMA space). */
    NO_SPACE,
    /** The operation is not valid in the object's current state (attach twice, use after close). */
    ILLEGAL_STATE,
    /** The resource is still in use and the operation cannot complete (pins left after an unmap interlock). */
    BUSY,
    /** The plugin or the platform does not offer this operation (see {@link Capability}). */
    UNSUPPORTED,
    /** The plugin requires an SPI version the core does not provide, or the reverse. */
    INCOMPATIBLE_VERSION,
    /** A peer (a VMM, a hypervisor) broke its protocol: a truncated message, a lying size field. */
    PROTOCOL_ERROR,
    /** An operating-system facility failed (a syscall returned an error); the message names it and errno. */
    IO_ERROR,
    /** A guest did something its vGPU cannot accept; the vGPU is failed, the host and other vGPUs are not. */
    GUEST_ERROR,
    /** A bounded wait ran out. */
    TIMEOUT,
    /** A bug in jgvt or a plugin: an invariant was broken. */
    INTERNAL
}
