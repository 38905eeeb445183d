package dev.jgvt.core.hw;

import static java.util.Objects.requireNonNull;

/**
 * The host resources a vGPU owns: its aperture slice, its hidden GM slice, and its fence registers
 * {@code [fenceBase, fenceBase + fenceCount)}. Everything a guest's commands and GGTT writes may reach is
 * inside these; the scanner and the GGTT shadow audit against them.
 */
public record VgpuPartition(GmRange aperture, GmRange hidden, int fenceBase, int fenceCount) {
    public VgpuPartition {
        requireNonNull(aperture, "aperture is null");
        requireNonNull(hidden, "hidden is null");
        if (fenceBase < 0 || fenceCount < 0) {
            throw new IllegalArgumentException("bad fences: base " + fenceBase + ", count " + fenceCount);
        }
    }

    /** Whether {@code [address, address + length)} lies wholly inside the aperture slice or the hidden slice. */
    public boolean containsGm(long address, long length) {
        return aperture.contains(address, length) || hidden.contains(address, length);
    }
}
