package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.cmd.GmUnmappedException;
import dev.jgvt.core.cmd.GraphicsMemory;
import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;

/**
 * Graphics memory read page by page: each 4 KiB page is translated to a guest-physical address by the subclass's
 * page tables (GGTT or PPGTT) and read from the pinned guest page, or through the guest's memory if the page is
 * not pinned. An untranslatable page, or one the guest's memory cannot deliver, ends the copy there.
 */
abstract class PagedGraphicsMemory implements GraphicsMemory {
    private final PinCache pins;
    private final GuestMemory memory;

    PagedGraphicsMemory(PinCache pins, GuestMemory memory) {
        this.pins = requireNonNull(pins, "pins is null");
        this.memory = requireNonNull(memory, "memory is null");
    }

    /** The guest-physical address of graphics address {@code gma}, or a negative value if it does not resolve. */
    abstract long gmaToGpa(long gma);

    @Override
    public final void copy(long gma, MemorySegment dst, long dstOffset, long length) throws GmUnmappedException {
        long done = 0;
        while (done < length) {
            long at = gma + done;
            long gpa = gmaToGpa(at);
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
