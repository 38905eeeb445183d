package dev.jgvt.sim;

import static java.util.Objects.requireNonNull;

/**
 * A GPU memory access that the hardware cannot complete. Engines catch it and fail the context, as a
 * real GPU reports a page fault (CAT error) and hangs the context. Cheap to throw: no stack trace.
 */
public final class GpuFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the access faulted. */
    public enum Kind {
        /** A GGTT or PPGTT entry on the walk is not present. */
        NOT_PRESENT,
        /** The address is outside the translated space (beyond the GGTT, or non-canonical for 48 bits). */
        OUT_OF_RANGE,
        /** An entry asks for a page size this GPU does not walk (1 GiB). */
        UNSUPPORTED_PAGE_SIZE,
        /** A translation produced a device address with no DMA mapping or host memory behind it. */
        UNMAPPED_DEVICE_ADDRESS
    }

    private final Kind kind;
    private final long address;
    private final int level;

    public GpuFault(Kind kind, long address, int level) {
        super(null, null, false, false);
        this.kind = requireNonNull(kind, "kind is null");
        this.address = address;
        this.level = level;
    }

    /** What went wrong. */
    public Kind kind() {
        return kind;
    }

    /** The graphics (or device, for {@link Kind#UNMAPPED_DEVICE_ADDRESS}) address that faulted. */
    public long address() {
        return address;
    }

    /** The table level that faulted: 4 PML4, 3 PDP, 2 PD, 1 PT, 0 GGTT or the device address space. */
    public int level() {
        return level;
    }

    @Override
    public String getMessage() {
        return kind + " at 0x" + Long.toHexString(address) + " (level " + level + ")";
    }
}
