package dev.jgvt.core.host;

import java.lang.foreign.MemorySegment;

/**
 * Host-owned memory visible to the GPU: the CPU view ({@link #segment()}) and the device address the GPU
 * uses ({@link #deviceAddress()}). {@link #close()} unmaps and frees it; it is idempotent. After close the
 * segment is invalid and the GPU faults on the address.
 */
public interface HostBuffer extends AutoCloseable {
    /** The device address of byte 0, page aligned. */
    long deviceAddress();

    /** The CPU view of the memory, {@code byteSize()} bytes. */
    MemorySegment segment();

    @Override
    void close();
}
