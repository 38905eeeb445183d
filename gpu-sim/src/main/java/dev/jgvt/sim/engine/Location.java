package dev.jgvt.sim.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.sim.GpuAddressSpace;

/**
 * Where a command was: the buffer it was fetched from, its graphics address there, and the ring offset of the
 * ring command being executed (the MI_BATCH_BUFFER_START that led into the batch, for batch commands).
 *
 * @param buffer ring, first- or second-level batch
 * @param space the address space the command was fetched through
 * @param address graphics address of the command's first dword
 * @param ringOffset byte offset in the ring of the current ring command
 */
public record Location(Buffer buffer, GpuAddressSpace space, long address, int ringOffset) {
    /** The buffer kinds a command streamer fetches from. */
    public enum Buffer {
        RING,
        FIRST_LEVEL_BATCH,
        SECOND_LEVEL_BATCH
    }

    public Location {
        requireNonNull(buffer, "buffer is null");
        requireNonNull(space, "space is null");
    }

    @Override
    public String toString() {
        String in = space instanceof GpuAddressSpace.Ggtt ? "GGTT" : "PPGTT";
        return buffer + " at " + in + " 0x" + Long.toHexString(address) + " (ring offset 0x"
                + Integer.toHexString(ringOffset) + ")";
    }
}
