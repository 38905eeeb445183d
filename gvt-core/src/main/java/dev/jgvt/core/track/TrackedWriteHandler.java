package dev.jgvt.core.track;

import java.lang.foreign.MemorySegment;

/** The owner of a tracked guest frame: told about every guest write to it. */
@FunctionalInterface
public interface TrackedWriteHandler {
    /**
     * The guest wrote {@code bytes} at {@code gpa}; the write is already committed to guest RAM. {@code bytes}
     * lies inside one frame and is valid only during the call. Must not throw for anything the guest wrote.
     */
    void trackedWrite(long gpa, MemorySegment bytes);
}
