package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PageTracker;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The binding's {@link PageTracker} over the {@code x-jgvt-page-tracking} extension: reference counts stay
 * here, and a frame's 0 → 1 and 1 → 0 transitions become TRACK_SET PROTECT/UNPROTECT to the connected
 * client, whose reply means the protection change is in force. Without a client that negotiated the
 * extension, {@link #track} fails {@link ErrorCode#UNSUPPORTED}: PPGTT write tracking is then unavailable.
 *
 * <p>Threading: safe from any thread; one lock, held across the client's round trip.
 */
final class RemoteTracker implements PageTracker {
    private static final Logger log = LoggerFactory.getLogger(RemoteTracker.class);

    private final String name;
    private final GuestMemory memory;
    private final Supplier<Connection> connection;
    private final Map<Long, Integer> counts = new HashMap<>();
    private boolean closed;

    RemoteTracker(String name, GuestMemory memory, Supplier<Connection> connection) {
        this.name = requireNonNull(name, "name is null");
        this.memory = requireNonNull(memory, "memory is null");
        this.connection = requireNonNull(connection, "connection is null");
    }

    @Override
    public synchronized void track(long gfn) {
        ensureOpen();
        if (gfn < 0 || !memory.isBacked(gfn)) {
            throw new GvtException(ErrorCode.NOT_MAPPED, name + ": track of gfn 0x" + Long.toHexString(gfn) + ": not guest RAM");
        }
        int count = counts.getOrDefault(gfn, 0);
        if (count == 0) {
            Connection c = connection.get();
            if (c == null || !c.tracks()) {
                throw new GvtException(ErrorCode.UNSUPPORTED, name + ": track of gfn 0x" + Long.toHexString(gfn)
                        + ": the connected VMM did not negotiate x-jgvt-page-tracking, guest writes cannot be trapped");
            }
            c.trackSet(true, gfn);
        }
        counts.put(gfn, count + 1);
    }

    @Override
    public synchronized void untrack(long gfn) {
        ensureOpen();
        Integer count = counts.get(gfn);
        if (count == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, name + ": untrack of gfn 0x" + Long.toHexString(gfn) + ": not tracked");
        }
        if (count > 1) {
            counts.put(gfn, count - 1);
            return;
        }
        counts.remove(gfn);
        Connection c = connection.get();
        if (c != null && c.tracks()) {
            try {
                c.trackSet(false, gfn);
            } catch (GvtException e) {
                log.warn("{}: UNPROTECT of gfn 0x{} failed: {}", name, Long.toHexString(gfn), e.getMessage());
            }
        }
    }

    @Override
    public synchronized boolean isTracked(long gfn) {
        return counts.containsKey(gfn);
    }

    /** Forgets tracking of the frames in {@code [address, address + size)}: that guest RAM is gone on both sides. */
    synchronized void forget(long address, long size) {
        long first = address >>> 12;
        long last = (address + size - 1) >>> 12;
        for (Iterator<Long> it = counts.keySet().iterator(); it.hasNext(); ) {
            long g = it.next();
            if (Long.compareUnsigned(g, first) >= 0 && Long.compareUnsigned(g, last) <= 0) {
                it.remove();
            }
        }
    }

    /** Forgets everything (the client disconnected: it dropped every protection). */
    synchronized void forgetAll() {
        counts.clear();
    }

    synchronized int trackedFrames() {
        return counts.size();
    }

    synchronized void close() {
        closed = true;
        counts.clear();
    }

    private void ensureOpen() {
        if (closed) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, name + ": the binding is detached");
        }
    }
}
