package dev.jgvt.core.exec;

import dev.jgvt.core.hw.Engine;
import java.util.ArrayDeque;

/** One vGPU's queued workloads, per engine, in submission order. Held in the scheduler's {@link Backlog}, under its lock. */
final class RunQueues {
    private final ArrayDeque<Workload>[] queues;

    @SuppressWarnings("unchecked")
    RunQueues() {
        queues = new ArrayDeque[Engine.values().length];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new ArrayDeque<>();
        }
    }

    void add(Workload w) {
        queues[w.engine.ordinal()].addLast(w);
    }

    Workload poll(int engine) {
        return queues[engine].pollFirst();
    }

    Workload peek(Engine engine) {
        return queues[engine.ordinal()].peekFirst();
    }

    boolean isEmpty(int engine) {
        return queues[engine].isEmpty();
    }

    /** Drops the engine's queue; returns how many workloads it held. */
    int drop(Engine engine) {
        int n = queues[engine.ordinal()].size();
        queues[engine.ordinal()].clear();
        return n;
    }

    void clear() {
        for (ArrayDeque<Workload> queue : queues) {
            queue.clear();
        }
    }

    boolean isEmpty() {
        for (ArrayDeque<Workload> queue : queues) {
            if (!queue.isEmpty()) {
                return false;
            }
        }
        return true;
    }
}
