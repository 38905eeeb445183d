package dev.jgvt.plugin.xen;

import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenForeignMemory;
import dev.jgvt.plugin.xen.lib.XenForeignMemory.ForeignMapping;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Pins as dedicated foreign mappings. Xen user space has no {@code dma_map_guest_page}: there is no
 * gfn-to-machine-frame query, so a pin gives the core a stable CPU mapping of the guest frames (valid for
 * copies and for the software GPU model) but no bus address a physical device could be pointed at. Each pin
 * is its own mapping (not a map-cache bucket), so neither eviction nor INVALIDATE can pull it away; its
 * segments die with it (the mapping's arena is closed on unpin).
 */
final class ForeignPins implements GuestPages {
    private final XenForeignMemory foreignMemory;
    private final int domid;
    private final Set<Pin> live = new HashSet<>();
    private boolean closed;

    ForeignPins(XenForeignMemory foreignMemory, int domid) {
        this.foreignMemory = foreignMemory;
        this.domid = domid;
    }

    @Override
    public PinnedPages pin(long gfn, int count, Access access) {
        if (count < 1 || gfn < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "pin of " + count + " frames at gfn " + gfn);
        }
        if (count > MAX_PAGES_PER_PIN) {
            throw new GvtException(ErrorCode.LIMIT_EXCEEDED, "pin of " + count + " frames exceeds " + MAX_PAGES_PER_PIN);
        }
        synchronized (this) {
            if (closed) {
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "pages of dom" + domid + " are detached");
            }
        }
        long[] gfns = new long[count];
        int[] err = new int[count];
        for (int i = 0; i < count; i++) {
            gfns[i] = gfn + i;
        }
        ForeignMapping mapping;
        try {
            mapping = foreignMemory.map(domid, true, gfns, err);
        } catch (XenCallException e) {
            throw new GvtException(e.errno() == Errno.EINVAL || e.errno() == Errno.ENOENT ? ErrorCode.NOT_MAPPED : ErrorCode.IO_ERROR,
                    "pin of gfn 0x" + Long.toHexString(gfn) + " +" + count + " in dom" + domid + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < count; i++) {
            if (err[i] != 0 || (long) (i + 1) * GuestMemory.PAGE_SIZE > mapping.segment().byteSize()) {
                mapping.close();
                throw new GvtException(ErrorCode.NOT_MAPPED, "gfn 0x" + Long.toHexString(gfn + i) + " of dom" + domid
                        + " is not guest RAM (" + Errno.name(-err[i]) + ")");
            }
        }
        Pin pin = new Pin(mapping, gfn, count);
        synchronized (this) {
            if (closed) {
                mapping.close();
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "pages of dom" + domid + " are detached");
            }
            live.add(pin);
        }
        return pin;
    }

    synchronized int livePins() {
        return live.size();
    }

    /** Releases every pin still held (detach). */
    void close() {
        List<Pin> pins;
        synchronized (this) {
            closed = true;
            pins = new ArrayList<>(live);
        }
        pins.forEach(Pin::close);
    }

    private final class Pin implements PinnedPages {
        private final ForeignMapping mapping;
        private final long gfn;
        private final int count;
        private volatile boolean pinClosed;

        Pin(ForeignMapping mapping, long gfn, int count) {
            this.mapping = mapping;
            this.gfn = gfn;
            this.count = count;
        }

        @Override
        public long gfn() {
            return gfn;
        }

        @Override
        public int count() {
            return count;
        }

        @Override
        public MemorySegment page(int index) {
            if (index < 0 || index >= count) {
                throw new IndexOutOfBoundsException("page " + index + " of a pin of " + count);
            }
            return mapping.segment().asSlice((long) index * GuestMemory.PAGE_SIZE, GuestMemory.PAGE_SIZE);
        }

        /** Contiguous in this process's address space (the foreign mapping), not in machine memory. */
        @Override
        public Optional<MemorySegment> contiguous() {
            return Optional.of(mapping.segment().asSlice(0, (long) count * GuestMemory.PAGE_SIZE));
        }

        @Override
        public boolean isClosed() {
            return pinClosed;
        }

        @Override
        public void close() {
            synchronized (ForeignPins.this) {
                if (pinClosed) {
                    return;
                }
                pinClosed = true;
                live.remove(this);
            }
            mapping.close();
        }
    }
}
