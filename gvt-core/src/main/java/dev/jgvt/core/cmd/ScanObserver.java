package dev.jgvt.core.cmd;

/**
 * Sees every ring scan of a vGPU's workloads, accepted or rejected, right after the scan and before the workload
 * goes on (on the engine's dispatcher thread, under the vGPU's lock). Used by the scan dump ({@link ScanDump}); an
 * observer only reads: it must not change guest memory, the scanner or the workload, and must not throw.
 */
public interface ScanObserver {
    /** Observes nothing. */
    ScanObserver NONE = (vgpuId, context, ring, scanner, rejection) -> {};

    /**
     * @param vgpuId the vGPU whose workload was scanned
     * @param context what the scan was given
     * @param ring the ring geometry the scan was given
     * @param scanner the scanner, whose {@link CommandScanner#batches()} name the batch buffers it entered (a batch
     *     the rejection stopped in has the bytes copied so far as its size)
     * @param rejection the rejection, or null when the workload was accepted
     */
    void scanned(int vgpuId, WorkloadContext context, RingSlice ring, CommandScanner scanner,
            ScanRejectedException rejection);

    /** The ring a workload was scanned from: start and size (GGTT), head and tail (offsets from the start). */
    record RingSlice(long start, long size, long head, long tail) {}
}
