package dev.jgvt.sim.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.EngineState;
import java.util.List;
import java.util.Optional;

/**
 * The result of one {@link Submission}: what an execlist layer writes into the context (RING_HEAD) and the
 * context-status buffer (complete, or hung/reset), and the events it raises as interrupts.
 *
 * @param submission what was executed
 * @param head ring offset where the engine stopped: the tail when complete; when hung, the ring command being
 *     executed (the MI_BATCH_BUFFER_START for a fault inside a batch)
 * @param commands commands executed (ring and batch), including the failing one
 * @param events signals in execution order
 * @param error why the engine stopped early; empty when it reached the tail or the slice ended
 * @param state where the engine stopped an unfinished workload at an arbitration point when its slice was used
 *     up, or null: continue it with {@link Submission#resume}
 */
public record Completion(Submission submission, int head, int commands, List<EngineEvent> events,
        Optional<EngineError> error, EngineState state) {
    public Completion {
        requireNonNull(submission, "submission is null");
        events = List.copyOf(events);
        requireNonNull(error, "error is null");
        if (error.isPresent() && state != null) {
            throw new IllegalArgumentException("a hung workload has no resume state");
        }
    }

    /** Whether the engine reached the tail. */
    public boolean completed() {
        return error.isEmpty() && state == null;
    }

    /** Whether the slice ended with the workload unfinished (at an arbitration point). */
    public boolean preempted() {
        return state != null;
    }

    /** Whether the workload is hung (stopped on an error). */
    public boolean hung() {
        return error.isPresent();
    }

    /** The number of MI_USER_INTERRUPT commands executed. */
    public long userInterrupts() {
        long n = 0;
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).kind() == EngineEvent.Kind.USER_INTERRUPT) {
                n++;
            }
        }
        return n;
    }

    @Override
    public String toString() {
        return submission.engine() + (completed() ? " completed" : preempted() ? " preempted at " + state
                : " hung: " + error.get().describe()) + ", head 0x"
                + Integer.toHexString(head) + ", " + commands + " commands, " + events.size() + " events";
    }
}
