package dev.jgvt.plugin.fake;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One pin: a view of the pinned frames' RAM that belongs to an arena of its own, closed on unpin, so that
 * a stale view throws {@link IllegalStateException} instead of reaching guest memory.
 */
final class FakePinnedPages implements PinnedPages {
    private final FakeGuest guest;
    private final long gfn;
    private final int count;
    private final Arena arena;
    private final MemorySegment view;
    private final AtomicBoolean closed = new AtomicBoolean();

    @SuppressWarnings("restricted") // reinterpret: the view stays inside guest RAM, which outlives every pin
    FakePinnedPages(FakeGuest guest, long gfn, int count, MemorySegment ram) {
        this.guest = guest;
        this.gfn = gfn;
        this.count = count;
        this.arena = Arena.ofShared();
        // the view lives in the pin's arena: closing it revokes every segment handed out by this pin
        this.view = ram.reinterpret(arena, null);
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
        checkNotClosed();
        if (index < 0 || index >= count) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "page index " + index + " outside pin of " + count + " frames at gfn 0x"
                    + Long.toHexString(gfn));
        }
        return view.asSlice((long) index * GuestRam.PAGE, GuestRam.PAGE);
    }

    @Override
    public Optional<MemorySegment> contiguous() {
        checkNotClosed();
        return Optional.of(view);
    }

    @Override
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (revoke()) {
            guest.unpinned(this);
        }
    }

    /** Invalidates the views without telling the guest (the guest is dropping all its pin state). */
    boolean revoke() {
        if (!closed.compareAndSet(false, true)) {
            return false;
        }
        arena.close();
        return true;
    }

    boolean overlaps(long startGfn, long endGfn) {
        return gfn < endGfn && startGfn < gfn + count;
    }

    private void checkNotClosed() {
        if (closed.get()) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "pin of " + count + " frames at gfn 0x" + Long.toHexString(gfn) + " is closed");
        }
    }

    @Override
    public String toString() {
        return "pin[gfn 0x" + Long.toHexString(gfn) + " x " + count + (closed.get() ? ", closed]" : "]");
    }
}
