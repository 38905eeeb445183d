package dev.jgvt.plugin.fake;

import dev.jgvt.spi.PageTracker;

/** {@link PageTracker} of a fake guest; the refcounts live in {@link FakeGuest}. */
final class FakePageTracker implements PageTracker {
    private final FakeGuest guest;

    FakePageTracker(FakeGuest guest) {
        this.guest = guest;
    }

    @Override
    public void track(long gfn) {
        guest.track(gfn);
    }

    @Override
    public void untrack(long gfn) {
        guest.untrack(gfn);
    }

    @Override
    public boolean isTracked(long gfn) {
        return guest.isTracked(gfn);
    }
}
