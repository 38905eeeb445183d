package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

/**
 * A snapshot of a vGPU's {@link AccessMeter}: per region index (VFIO's numbering: BAR0 0, BAR2 2, config 7),
 * the reads, the writes and the nanoseconds spent handling them (0 unless timing was on).
 */
public record AccessCounts(long[] reads, long[] writes, long[] nanos) {
    public AccessCounts {
        requireNonNull(reads, "reads is null");
        requireNonNull(writes, "writes is null");
        requireNonNull(nanos, "nanos is null");
        reads = reads.clone();
        writes = writes.clone();
        nanos = nanos.clone();
    }

    public long reads(int region) {
        return region >= 0 && region < reads.length ? reads[region] : 0;
    }

    public long writes(int region) {
        return region >= 0 && region < writes.length ? writes[region] : 0;
    }

    public long nanos(int region) {
        return region >= 0 && region < nanos.length ? nanos[region] : 0;
    }

    /** Handling time over all regions. */
    public long totalNanos() {
        long sum = 0;
        for (long n : nanos) {
            sum += n;
        }
        return sum;
    }

    /** The accesses between {@code earlier} and this snapshot. */
    public AccessCounts minus(AccessCounts earlier) {
        long[] r = reads.clone();
        long[] w = writes.clone();
        long[] n = nanos.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] -= earlier.reads(i);
            w[i] -= earlier.writes(i);
            n[i] -= earlier.nanos(i);
        }
        return new AccessCounts(r, w, n);
    }
}
