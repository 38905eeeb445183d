package dev.jgvt.plugin.fake;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;

/** {@link GuestPages} of a fake guest; the refcounts live in {@link FakeGuest}. */
final class FakeGuestPages implements GuestPages {
    private final FakeGuest guest;

    FakeGuestPages(FakeGuest guest) {
        this.guest = guest;
    }

    @Override
    public PinnedPages pin(long gfn, int count, Access access) {
        guest.checkOpen();
        if (access == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "access is null");
        }
        if (count < 1) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "pin of " + count + " frames: count must be at least 1");
        }
        if (gfn < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "pin at negative gfn 0x" + Long.toHexString(gfn));
        }
        if (count > MAX_PAGES_PER_PIN) {
            throw new GvtException(ErrorCode.LIMIT_EXCEEDED, "pin of " + count + " frames exceeds the limit of " + MAX_PAGES_PER_PIN
                    + " per call");
        }
        return guest.pin(gfn, count, access);
    }
}
