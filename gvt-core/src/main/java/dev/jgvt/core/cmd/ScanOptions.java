package dev.jgvt.core.cmd;

/**
 * Scanner limits and switches.
 *
 * @param scanPpgttBatches also shadow-copy and scan non-privileged (PPGTT) batch buffers. A diagnostic only: the
 *     GPU still executes the guest's copy (GVT-g's {@code scan_nonprivbb}); by default they are not scanned
 *     because the shadow PPGTT confines them
 * @param maxBatchBytes largest batch buffer (bytes) that is shadowed
 * @param maxBatches most batch buffers one workload may start (bounds chained loops)
 * @param maxWorkloadBytes most bytes of batch buffers one workload may shadow in total
 */
public record ScanOptions(boolean scanPpgttBatches, long maxBatchBytes, int maxBatches, long maxWorkloadBytes) {
    public ScanOptions {
        if (maxBatchBytes < 4096 || maxBatches < 1 || maxWorkloadBytes < maxBatchBytes) {
            throw new IllegalArgumentException("bad scan limits: max batch bytes " + maxBatchBytes + ", max batches "
                    + maxBatches + ", max workload bytes " + maxWorkloadBytes);
        }
    }

    /** GVT-g's behaviour: privileged batches scanned, PPGTT batches not; 64 MiB per batch, 4096 batches, 256 MiB. */
    public static ScanOptions defaults() {
        return new ScanOptions(false, 64L << 20, 4096, 256L << 20);
    }

    public ScanOptions withScanPpgttBatches(boolean scan) {
        return new ScanOptions(scan, maxBatchBytes, maxBatches, maxWorkloadBytes);
    }
}
