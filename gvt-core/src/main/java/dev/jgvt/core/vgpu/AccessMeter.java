package dev.jgvt.core.vgpu;

/**
 * Counts one vGPU's device accesses (config space, BARs, device regions) per region, and with
 * {@link #timing(boolean) timing} on the time the device model spent handling them, lock waits included.
 * Updated under the vGPU's lock on the trapping thread: two array increments per access, and two
 * {@link System#nanoTime()} calls when timing is on (off by default; {@code gvt qemu} turns it on to
 * measure the share of a guest's probe spent in the server).
 */
public final class AccessMeter {
    private final long[] reads;
    private final long[] writes;
    private final long[] nanos;
    private volatile boolean timing;

    AccessMeter(int regions) {
        reads = new long[regions];
        writes = new long[regions];
        nanos = new long[regions];
    }

    /** Turns the handling-time sums on or off. */
    public void timing(boolean on) {
        timing = on;
    }

    /** The start of an access: a {@link System#nanoTime()} when timing is on, else 0. */
    long start() {
        return timing ? System.nanoTime() : 0;
    }

    /** An access to {@code region} that started at {@code started} ({@link #start()}); called under the vGPU's lock. */
    void count(int region, boolean write, long started) {
        if (region < 0 || region >= reads.length) {
            return;
        }
        if (write) {
            writes[region]++;
        } else {
            reads[region]++;
        }
        if (started != 0) {
            nanos[region] += System.nanoTime() - started;
        }
    }

    /** A copy of the counters; call under the vGPU's lock ({@link Vgpu#runLocked}) for a consistent one. */
    AccessCounts snapshot() {
        return new AccessCounts(reads.clone(), writes.clone(), nanos.clone());
    }
}
