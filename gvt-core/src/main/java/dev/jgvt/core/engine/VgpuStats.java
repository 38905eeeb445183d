package dev.jgvt.core.engine;

import dev.jgvt.core.exec.ExecStats;

/**
 * What the host saw of one attached vGPU.
 *
 * @param msiSignals MSIs raised to the guest
 * @param trackedWrites guest writes to tracked page-table pages delivered to their shadows
 * @param ppgttTraps page-table writes the PPGTT shadower handled
 * @param pinnedFrames guest frames pinned right now (GGTT, PPGTT)
 * @param ggttWrites guest GGTT entry writes shadowed (an entry written in two halves counts once)
 * @param ggttIgnoredWrites guest GGTT writes refused (outside the partition, malformed)
 * @param unhandledAccesses MMIO accesses to registers the model does not implement
 * @param failsafe whether the vGPU failed
 * @param exec what command submission did (workloads, scanning, execution)
 */
public record VgpuStats(long msiSignals, long trackedWrites, long ppgttTraps, int pinnedFrames, long ggttWrites,
        long ggttIgnoredWrites,
        long unhandledAccesses, boolean failsafe, ExecStats exec) {
    public VgpuStats {
        java.util.Objects.requireNonNull(exec, "exec is null");
    }
}
