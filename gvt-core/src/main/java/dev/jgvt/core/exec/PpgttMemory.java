package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.core.gtt.PpgttShadower;
import dev.jgvt.core.gtt.ShadowPpgtt;
import dev.jgvt.spi.GuestMemory;

/**
 * Graphics memory through a workload's PPGTT, as the diagnostic scan of non-privileged batches reads them (GVT-g's
 * {@code scan_nonprivbb}): each page is resolved through the guest's own page tables (GVT-g's {@code gma_to_gpa}
 * for PPGTT addresses) and read from the pinned guest page or the guest's memory. Only reads: the GPU executes
 * these batches from guest memory through the shadow PPGTT, never from what this copies.
 */
final class PpgttMemory extends PagedGraphicsMemory {
    private final PpgttShadower ppgtt;
    private ShadowPpgtt mm;

    PpgttMemory(PpgttShadower ppgtt, PinCache pins, GuestMemory memory) {
        super(pins, memory);
        this.ppgtt = requireNonNull(ppgtt, "ppgtt is null");
    }

    /** Reads through {@code workload}'s page tables from now on. */
    PpgttMemory of(ShadowPpgtt workload) {
        this.mm = requireNonNull(workload, "workload is null");
        return this;
    }

    @Override
    long gmaToGpa(long gma) {
        return mm == null ? -1 : ppgtt.gmaToGpa(mm, gma);
    }
}
