package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuGuestMemory;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.MemorySegment;

/**
 * The binding's guest memory: the software IOMMU's view, where regions the client mapped with an fd are the
 * {@code mmap}ped file (pinnable) and regions mapped without one are reached by DMA_READ and DMA_WRITE
 * messages to the client (not pinnable: {@link ErrorCode#IO_ERROR}); an access spanning both kinds is split
 * at region boundaries and, failing part-way, may have written a prefix. Once detached every access fails
 * ILLEGAL_STATE.
 *
 * <p>Threading: safe from any thread.
 */
final class GuestRam implements GuestMemory, GuestPages {
    private final IommuGuestMemory iommu;
    private volatile boolean detached;

    GuestRam(IommuGuestMemory iommu) {
        this.iommu = requireNonNull(iommu, "iommu is null");
    }

    /** From now on every access fails ILLEGAL_STATE (the binding is closing). */
    void detach() {
        detached = true;
    }

    private void ensureAttached() {
        if (detached) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "guest memory is detached");
        }
    }

    @Override
    public void read(long gpa, MemorySegment dst) {
        requireNonNull(dst, "buffer is null");
        ensureAttached();
        iommu.read(gpa, dst);
    }

    @Override
    public void write(long gpa, MemorySegment src) {
        requireNonNull(src, "buffer is null");
        ensureAttached();
        iommu.write(gpa, src);
    }

    @Override
    public boolean isBacked(long gfn) {
        return !detached && iommu.isBacked(gfn);
    }

    @Override
    public PinnedPages pin(long gfn, int count, Access access) {
        ensureAttached();
        return iommu.pin(gfn, count, access);
    }
}
