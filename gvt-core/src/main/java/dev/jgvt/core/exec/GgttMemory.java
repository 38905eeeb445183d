package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.cmd.GmUnmappedException;
import dev.jgvt.core.cmd.GraphicsMemory;
import dev.jgvt.core.gtt.GgttShadow;
import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;

/**
 * Graphics memory through a vGPU's GGTT, as the scanner reads rings and privileged batches: each page is
 * resolved through the guest's GGTT entry (only entries inside the vGPU's partition resolve) and read from the
 * pinned guest page, or through the guest's memory if the page is not pinned.
 */
final class GgttMemory implements GraphicsMemory {
    private final GgttShadow ggtt;
    private final PinCache pins;
    private final GuestMemory memory;

    GgttMemory(GgttShadow ggtt, PinCache pins, GuestMemory memory) {
        this.ggtt = requireNonNull(ggtt, "ggtt is null");
        this.pins = requireNonNull(pins, "pins is null");
        this.memory = requireNonNull(memory, "memory is null");
    }

    @Override
    public void copy(long gma, MemorySegment dst, long dstOffset, long length) throws GmUnmappedException {
        long done = 0;
        while (done < length) {
            long at = gma + done;
            long gpa = ggtt.gmaToGpa(at);
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
