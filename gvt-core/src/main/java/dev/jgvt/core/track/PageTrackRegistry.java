package dev.jgvt.core.track;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PageTracker;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vGPU's registry of tracked guest frames: gfn → handler, plus whether write protection is on right now.
 * Registration (bookkeeping) and protection (the hypervisor's {@link PageTracker}) are separate, so a
 * relaxed (out-of-sync) page can stay registered while its writes are not trapped.
 *
 * <p>Used under the vGPU's lock (not thread-safe). Nothing here throws for a guest's doing: a stray report
 * for an unregistered frame is ignored (a benign race with unregistration).
 */
public final class PageTrackRegistry {
    private static final Logger log = LoggerFactory.getLogger(PageTrackRegistry.class);

    private final PageTracker tracker;
    private final GfnMap<Entry> entries = new GfnMap<>(256);
    /** gfn → handler, for dispatch: one probe and no bookkeeping object on the way to the handler. */
    private final GfnMap<TrackedWriteHandler> handlers = new GfnMap<>(256);
    /** The frame of the last dispatch and its handler (a guest usually writes one table several times). */
    private long lastGfn = -1;
    private TrackedWriteHandler lastHandler;
    private long dispatched;
    private long strays;
    private long unprotectable;

    private static final class Entry {
        boolean protectedNow;
    }

    /** A registry over {@code tracker}; empty when the binding cannot trap guest writes. */
    public PageTrackRegistry(Optional<PageTracker> tracker) {
        this.tracker = requireNonNull(tracker, "tracker is null").orElse(null);
    }

    /** Whether guest writes can be trapped at all (the binding offers a {@link PageTracker}). */
    public boolean canProtect() {
        return tracker != null;
    }

    /**
     * Registers {@code handler} for {@code gfn} and turns protection on (when {@link #canProtect()}). A tracker
     * that refuses with {@link ErrorCode#UNSUPPORTED} (this guest's VMM cannot trap writes right now, e.g. a
     * vfio-user client without the page-tracking extension) leaves the frame registered but unprotected
     * ({@link #isProtected} false), so the caller keeps it out of sync, as when there is no tracker at all.
     *
     * @throws GvtException {@link ErrorCode#ALREADY_EXISTS} if {@code gfn} is registered; the tracker's other
     *     errors ({@link ErrorCode#NOT_MAPPED} …) when protection cannot be turned on — nothing stays registered
     */
    public void register(long gfn, TrackedWriteHandler handler) {
        requireNonNull(handler, "handler is null");
        if (gfn < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "negative gfn " + gfn);
        }
        if (entries.get(gfn) != null) {
            throw new GvtException(ErrorCode.ALREADY_EXISTS, "gfn 0x" + Long.toHexString(gfn) + " is already tracked");
        }
        Entry entry = new Entry();
        if (tracker != null) {
            try {
                tracker.track(gfn);
                entry.protectedNow = true;
            } catch (GvtException e) {
                if (e.code() != ErrorCode.UNSUPPORTED) {
                    throw e;
                }
                unprotectable++;
            }
        }
        entries.put(gfn, entry);
        handlers.put(gfn, handler);
    }

    /** Unregisters {@code gfn}, turning protection off first; a no-op when not registered. Never throws. */
    public void unregister(long gfn) {
        Entry entry = entries.remove(gfn);
        handlers.remove(gfn);
        if (gfn == lastGfn) {
            lastGfn = -1;
            lastHandler = null;
        }
        if (entry != null && entry.protectedNow) {
            untrackQuietly(gfn);
        }
    }

    /** Turns protection on for a registered frame; returns whether it is on afterwards. Never throws. */
    public boolean enable(long gfn) {
        Entry entry = entries.get(gfn);
        if (entry == null || tracker == null) {
            return false;
        }
        if (!entry.protectedNow) {
            try {
                tracker.track(gfn);
                entry.protectedNow = true;
            } catch (GvtException e) {
                log.debug("cannot re-protect gfn 0x{}: {}", Long.toHexString(gfn), e.toString());
            }
        }
        return entry.protectedNow;
    }

    /** Turns protection off for a registered frame, keeping the registration. Never throws. */
    public void disable(long gfn) {
        Entry entry = entries.get(gfn);
        if (entry != null && entry.protectedNow) {
            entry.protectedNow = false;
            untrackQuietly(gfn);
        }
    }

    /** Whether {@code gfn} is registered. */
    public boolean isRegistered(long gfn) {
        return entries.get(gfn) != null;
    }

    /** Whether guest writes to {@code gfn} are trapped right now. */
    public boolean isProtected(long gfn) {
        Entry entry = entries.get(gfn);
        return entry != null && entry.protectedNow;
    }

    /** The number of registered frames. */
    public int size() {
        return entries.size();
    }

    /** Tracked-write reports delivered to a handler so far. */
    public long dispatched() {
        return dispatched;
    }

    /** Registrations the tracker refused with UNSUPPORTED (kept registered, unprotected, out of sync). */
    public long unprotectable() {
        return unprotectable;
    }

    /** Reports ignored because nothing was registered for the frame. */
    public long strays() {
        return strays;
    }

    /**
     * Delivers a tracked write (from {@code DeviceModel.trackedWrite}) to the handlers of the frames it touches,
     * one call per frame. Returns whether any handler took it. Never throws for the guest's doing.
     */
    public boolean dispatch(long gpa, MemorySegment bytes) {
        long length = bytes.byteSize();
        if (gpa < 0 || length <= 0) {
            return false;
        }
        if ((gpa & 0xFFF) + length <= 4096) {
            long gfn = gpa >>> 12;
            TrackedWriteHandler handler;
            if (gfn == lastGfn) {
                handler = lastHandler;
            } else {
                handler = handlers.get(gfn);
                if (handler == null) {
                    strays++;
                    return false;
                }
                lastGfn = gfn;
                lastHandler = handler;
            }
            dispatched++;
            handler.trackedWrite(gpa, bytes);
            return true;
        }
        boolean handled = false;
        long done = 0;
        while (done < length) {
            long at = gpa + done;
            long chunk = Math.min(length - done, 4096 - (at & 0xFFF));
            TrackedWriteHandler handler = handlers.get(at >>> 12);
            if (handler == null) {
                strays++;
            } else {
                dispatched++;
                handler.trackedWrite(at, bytes.asSlice(done, chunk));
                handled = true;
            }
            done += chunk;
        }
        return handled;
    }

    /** Unregisters everything (turning protection off). Never throws. */
    public void clear() {
        for (long gfn : entries.keys()) {
            unregister(gfn);
        }
    }

    private void untrackQuietly(long gfn) {
        try {
            tracker.untrack(gfn);
        } catch (GvtException e) {
            log.debug("untrack of gfn 0x{} failed: {}", Long.toHexString(gfn), e.toString());
        }
    }
}
