package dev.jgvt.core.exec;

/**
 * What submission did for one vGPU.
 *
 * @param submissions workloads created from ELSP writes (one per valid element)
 * @param completed workloads that ran to their tail and were reported to the guest
 * @param rejected ELSP writes and workloads refused as guest errors (each puts the vGPU in failsafe)
 * @param hung workloads the host engine stopped on (GPU page fault, illegal command, command bound)
 * @param failed workloads dropped for other reasons (engine reset, guest RAM unmapped while running, no host
 *     memory)
 * @param droppedSubmissions ELSP writes ignored because the vGPU was in failsafe or detached
 * @param commandsScanned ring and batch commands the scanner accepted (each MI_NOOP counts)
 * @param bytesScanned ring and batch bytes scanned and shadowed
 * @param scanNanos time spent scanning and shadowing
 * @param commandsExecuted commands the host engines executed for this vGPU
 * @param ownedNanos time the scheduler gave this vGPU the GPU
 * @param hwspMisses context-status mirror writes that found no hardware status page
 * @param mediationNanos time the core spent on this vGPU's submissions outside the host engines: ELSP
 *     handling, preparing (shadow PPGTT, scan, shadow copies) and completing workloads
 * @param executing workloads executing on host engines at the time of the snapshot
 */
public record ExecStats(long submissions, long completed, long rejected, long hung, long failed,
        long droppedSubmissions, long commandsScanned, long bytesScanned, long scanNanos, long commandsExecuted, long ownedNanos,
        long hwspMisses, long mediationNanos, int executing) {
    /** Scan throughput in MB/s (0 before anything was scanned). */
    public double scanMegabytesPerSecond() {
        return scanNanos == 0 ? 0 : bytesScanned * 1e3 / scanNanos;
    }

    /** The mutable counters behind a snapshot; updated under the vGPU's lock. */
    static final class Counters {
        long submissions;
        long completed;
        long rejected;
        long hung;
        long failed;
        long droppedSubmissions;
        long commandsScanned;
        long bytesScanned;
        long scanNanos;
        long commandsExecuted;
        long hwspMisses;
        long mediationNanos;

        /** @param sliceMediationNanos mediation time measured outside these counters (added to {@code mediationNanos}) */
        ExecStats snapshot(long ownedNanos, int executing, long sliceMediationNanos) {
            return new ExecStats(submissions, completed, rejected, hung, failed, droppedSubmissions, commandsScanned,
                    bytesScanned, scanNanos, commandsExecuted, ownedNanos, hwspMisses,
                    mediationNanos + sliceMediationNanos, executing);
        }
    }
}
