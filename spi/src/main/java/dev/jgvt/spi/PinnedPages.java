package dev.jgvt.spi;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * A run of pinned guest frames. {@link #close()} unpins (drops one reference per frame); it is idempotent.
 * After close, every segment obtained from this object is invalid: accessing it throws
 * {@link IllegalStateException} (the segments belong to an arena the plugin closes on unpin) or, for
 * plugins whose memory cannot be revoked, still reads stale memory — never memory of another guest.
 */
public interface PinnedPages extends AutoCloseable {
    /** The first frame. */
    long gfn();

    /** The number of frames (1..512). */
    int count();

    /** A 4096-byte view of frame {@code gfn() + index}. */
    MemorySegment page(int index);

    /** One view of all frames when they are contiguous in host memory; empty otherwise. */
    Optional<MemorySegment> contiguous();

    /** Whether {@link #close()} has been called (by the owner, or by the core during an unmap). */
    boolean isClosed();

    @Override
    void close();
}
