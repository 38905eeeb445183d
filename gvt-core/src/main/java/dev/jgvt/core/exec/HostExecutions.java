package dev.jgvt.core.exec;

/**
 * Counts one vGPU's workloads executing on a host engine right now, so that a reset or a DMA unmap can wait until
 * the host no longer touches the vGPU's shadows or guest memory ({@link #quiesce}).
 *
 * <p>Locking: guarded by this object's monitor only; {@link #started} is called under the vGPU's lock (before it
 * is released for host execution, so a reset or unmap from then on waits), {@link #ended} without it, and
 * {@link #quiesce} waits under the vGPU's lock — which is safe because ending an execution never needs that lock.
 * A workload held between slices is not executing.
 */
final class HostExecutions {
    private int executing;
    /** Threads in {@link #quiesce}. */
    private int waiting;

    /** A workload's slice is about to execute on the host. */
    synchronized void started() {
        executing++;
    }

    /** The host engine stopped executing a slice {@link #started} counted. */
    synchronized void ended() {
        // notifyAll only for a waiter: on a monitor nobody waits on it would still inflate the lock, per slice
        if (--executing == 0 && waiting > 0) {
            notifyAll();
        }
    }

    /** Slices executing now. */
    synchronized int count() {
        return executing;
    }

    /** Waits until nothing executes; returns early (interrupt status set) if interrupted. */
    synchronized void quiesce() {
        waiting++;
        try {
            while (executing > 0) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        } finally {
            waiting--;
        }
    }
}
