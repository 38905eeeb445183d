package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.cmd.GmUnmappedException;
import dev.jgvt.core.cmd.GraphicsMemory;
import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.core.gtt.PpgttShadower;
import dev.jgvt.core.gtt.ShadowPpgtt;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;

/**
 * Graphics memory through a workload's PPGTT, as the diagnostic scan of non-privileged batches reads them (GVT-g's
 * {@code scan_nonprivbb}): each page is resolved through the guest's own page tables (GVT-g's {@code gma_to_gpa}
 * for PPGTT addresses) and read from the pinned guest page or the guest's memory. Only reads: the GPU executes
 * these batches from guest memory through the shadow PPGTT, never from what this copies.
 */
final class PpgttMemory implements GraphicsMemory {
    private final PpgttShadower ppgtt;
    private final PinCache pins;
    private final GuestMemory memory;
    private ShadowPpgtt mm;

    PpgttMemory(PpgttShadower ppgtt, PinCache pins, GuestMemory memory) {
        this.ppgtt = requireNonNull(ppgtt, "ppgtt is null");
        this.pins = requireNonNull(pins, "pins is null");
        this.memory = requireNonNull(memory, "memory is null");
    }

    /** Reads through {@code workload}'s page tables from now on. */
    PpgttMemory of(ShadowPpgtt workload) {
        this.mm = requireNonNull(workload, "workload is null");
        return this;
    }

    @Override
    public void copy(long gma, MemorySegment dst, long dstOffset, long length) throws GmUnmappedException {
        long done = 0;
        while (done < length) {
            long at = gma + done;
            long gpa = mm == null ? -1 : ppgtt.gmaToGpa(mm, at);
            if (gpa < 0) {
                throw new GmUnmappedException(at);
            }
            long n = Math.min(length - done, 4096 - (at & 0xFFF));
            MemorySegment page = pins.page(gpa >>> 12);
            if (page != null) {
                MemorySegment.copy(page, gpa & 0xFFF, dst, dstOffset + done, n);
            } else {
                try {
                    memory.read(gpa, dst.asSlice(dstOffset + done, n));
                } catch (GvtException e) {
                    throw new GmUnmappedException(at);
                }
            }
            done += n;
        }
    }
}
