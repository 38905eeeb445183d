package dev.jgvt.core.exec;

import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the vGPUs registered with a {@link GpuScheduler} have to do: each one's {@link RunQueues}, and per engine whose
 * workload is in flight there (claimed by the inline path or a dispatcher, between leaving the queue and completion).
 * A vGPU has work when it has something queued, in flight, or held between two slices (asked of the vGPU itself,
 * lock-free). Holds state and answers questions; it decides nothing (the scheduler claims and releases engines,
 * {@link GpuOwnership} decides who owns the GPU).
 *
 * <p>Locking: not thread-safe; every method runs under the scheduler's lock.
 */
final class Backlog {
    private static final int ENGINES = Engine.values().length;

    private final List<ScheduledVgpu> registered = new ArrayList<>();
    /** The run queues of each registered vGPU. */
    private final Map<ScheduledVgpu, RunQueues> queues = new IdentityHashMap<>();
    /** Per engine: whose workload is between leaving the queue and completion (inline or dispatched), or null. */
    private final ScheduledVgpu[] busy = new ScheduledVgpu[ENGINES];

    void add(ScheduledVgpu vgpu) {
        registered.add(vgpu);
        queues.put(vgpu, new RunQueues());
    }

    void remove(ScheduledVgpu vgpu) {
        registered.remove(vgpu);
        queues.remove(vgpu);
    }

    /** {@code vgpu}'s run queues, or null when it is not registered. */
    RunQueues queues(ScheduledVgpu vgpu) {
        return queues.get(vgpu);
    }

    /** Whose workload is in flight on engine {@code e}, or null: the engine is free to claim. */
    ScheduledVgpu busy(int e) {
        return busy[e];
    }

    /** Engine {@code e} runs a workload of {@code vgpu} from now until {@link #release}. */
    void claim(int e, ScheduledVgpu vgpu) {
        busy[e] = vgpu;
    }

    void release(int e) {
        busy[e] = null;
    }

    /** Whether {@code vgpu} (null: nobody) has work queued, in flight or held between slices. */
    boolean hasWork(ScheduledVgpu vgpu) {
        if (vgpu == null) {
            return false;
        }
        RunQueues q = queues.get(vgpu);
        return (q != null && !q.isEmpty()) || inFlight(vgpu) || vgpu.hasSuspended();
    }

    /** Whether some registered vGPU has work, asking {@code likely} first. */
    boolean anyHasWork(ScheduledVgpu likely) {
        boolean any = hasWork(likely);
        for (int i = 0; i < registered.size() && !any; i++) {
            any = hasWork(registered.get(i));
        }
        return any;
    }

    /** Whether a registered vGPU other than {@code vgpu} has work. */
    boolean othersHaveWork(ScheduledVgpu vgpu) {
        for (int i = 0; i < registered.size(); i++) {
            ScheduledVgpu other = registered.get(i);
            if (other != vgpu && hasWork(other)) {
                return true;
            }
        }
        return false;
    }

    /** Whether an engine runs a workload of {@code vgpu} (null: nobody). */
    boolean inFlight(ScheduledVgpu vgpu) {
        if (vgpu == null) {
            return false;
        }
        for (ScheduledVgpu b : busy) {
            if (b == vgpu) {
                return true;
            }
        }
        return false;
    }
}
