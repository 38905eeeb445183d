package dev.jgvt.core.cmd;

import java.lang.foreign.MemorySegment;

/**
 * Read access to graphics memory through one of the vGPU's address spaces: its view of the GGTT (guest GGTT
 * entries resolved to guest pages) or, for the diagnostic scan of non-privileged batches, a PPGTT.
 */
public interface GraphicsMemory {
    /**
     * Copies {@code length} bytes at graphics address {@code gma} into {@code dst} at {@code dstOffset}.
     *
     * @throws GmUnmappedException when a page of the range has no valid entry; the bytes before
     *     {@link GmUnmappedException#address()} have been copied
     */
    void copy(long gma, MemorySegment dst, long dstOffset, long length) throws GmUnmappedException;
}
