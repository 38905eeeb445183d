package dev.jgvt.core.host;

/**
 * Where a host engine stopped a workload it has not finished, at an arbitration point: everything it needs to
 * continue from there ({@link HostSubmission#resumeAt}). The addresses are the host engine's (shadow ring, shadow
 * batch copies in host graphics memory, or a PPGTT batch's address in the workload's shadow PPGTT); the execlist
 * layer passes the state back unchanged and reads {@link #ringOffset} and {@link #activeAddress} to show the
 * guest a busy engine.
 *
 * @param ringOffset byte offset in the ring where the ring continues (after the ring command being executed)
 * @param ringCommand byte offset in the ring of the ring command being executed (the MI_BATCH_BUFFER_START that
 *     led into the batch when {@code level > 0}; equal to {@code ringOffset} at level 0)
 * @param level 0 ring, 1 first-level batch, 2 second-level batch
 * @param batchAddress graphics address of the next command in the current batch (level 1 or 2)
 * @param batchPpgtt whether {@code batchAddress} is in the PPGTT (else the GGTT)
 * @param returnAddress graphics address in the first-level batch to return to from a second-level one (level 2)
 * @param returnPpgtt whether {@code returnAddress} is in the PPGTT
 */
public record EngineState(int ringOffset, int ringCommand, int level, long batchAddress, boolean batchPpgtt,
        long returnAddress, boolean returnPpgtt) {
    public EngineState {
        if (level < 0 || level > 2) {
            throw new IllegalArgumentException("level must be 0, 1 or 2: " + level);
        }
        if (ringOffset < 0 || ringCommand < 0) {
            throw new IllegalArgumentException("negative ring offset: " + ringOffset + ", " + ringCommand);
        }
    }

    /** The graphics address of the next command (ACTHD): the batch address inside a batch, else -1 (the ring). */
    public long activeAddress() {
        return level == 0 ? -1 : batchAddress;
    }

    @Override
    public String toString() {
        return level == 0 ? "ring 0x" + Integer.toHexString(ringOffset)
                : "level-" + level + " batch at " + (batchPpgtt ? "PPGTT" : "GGTT") + " 0x" + Long.toHexString(batchAddress)
                        + " (ring 0x" + Integer.toHexString(ringCommand) + ")";
    }
}
