package dev.jgvt.core.host;

import java.util.Arrays;

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
 * @param gprs the command streamer's general purpose registers (ring + 0x600, sixteen 64-bit values) as the slice
 *     left them: restored when the workload resumes, because another workload may run on the engine in between
 *     (hardware keeps them in the context image); empty when the engine keeps none
 */
public record EngineState(int ringOffset, int ringCommand, int level, long batchAddress, boolean batchPpgtt,
        long returnAddress, boolean returnPpgtt, long[] gprs) {
    public EngineState {
        java.util.Objects.requireNonNull(gprs, "gprs is null");
        gprs = gprs.clone();
        if (level < 0 || level > 2) {
            throw new IllegalArgumentException("level must be 0, 1 or 2: " + level);
        }
        if (ringOffset < 0 || ringCommand < 0) {
            throw new IllegalArgumentException("negative ring offset: " + ringOffset + ", " + ringCommand);
        }
    }

    @Override
    public long[] gprs() {
        return gprs.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EngineState s && ringOffset == s.ringOffset && ringCommand == s.ringCommand
                && level == s.level && batchAddress == s.batchAddress && batchPpgtt == s.batchPpgtt
                && returnAddress == s.returnAddress && returnPpgtt == s.returnPpgtt && Arrays.equals(gprs, s.gprs);
    }

    @Override
    public int hashCode() {
        return (ringOffset * 31 + level) * 31 + Long.hashCode(batchAddress) + Arrays.hashCode(gprs);
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
