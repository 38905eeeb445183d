package dev.jgvt.core.host;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * What a physical engine reports for one {@link HostSubmission} (one slice of a workload): it reached the tail
 * ({@link #completed()}), stopped at an arbitration point because the slice was used up ({@link #preempted()}:
 * continue with {@link HostSubmission#resume}), or hung ({@link #error()}).
 *
 * @param head ring offset where the engine stopped (the tail when it completed; the ring command being executed
 *     when it stopped inside a batch)
 * @param commands commands executed in this slice (ring and batch)
 * @param userInterrupts MI_USER_INTERRUPTs the engine executed (a scanned shadow workload has none: the
 *     scanner takes them out and the execlist layer raises them as virtual events)
 * @param error why the engine stopped early (a GPU page fault, an unknown or illegal command, the command
 *     bound): the workload is hung; empty when it reached the tail or was preempted
 * @param state where the engine stopped an unfinished workload, or null
 */
public record HostCompletion(int head, int commands, int userInterrupts, Optional<String> error, EngineState state) {
    public HostCompletion {
        requireNonNull(error, "error is null");
        if (error.isPresent() && state != null) {
            throw new IllegalArgumentException("a hung workload has no resume state");
        }
    }

    /** A slice that ended the workload: at the tail ({@code error} empty) or hung. */
    public HostCompletion(int head, int commands, int userInterrupts, Optional<String> error) {
        this(head, commands, userInterrupts, error, null);
    }

    /** Whether the engine reached the tail. */
    public boolean completed() {
        return error.isEmpty() && state == null;
    }

    /** Whether the engine stopped the workload unfinished at an arbitration point ({@link #state} says where). */
    public boolean preempted() {
        return state != null;
    }

    /** Whether the workload is hung. */
    public boolean hung() {
        return error.isPresent();
    }
}
