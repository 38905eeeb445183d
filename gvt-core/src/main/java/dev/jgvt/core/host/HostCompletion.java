package dev.jgvt.core.host;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * What a physical engine reports for one {@link HostSubmission}.
 *
 * @param head ring offset where the engine stopped (the tail when it completed)
 * @param commands commands executed (ring and batch)
 * @param userInterrupts MI_USER_INTERRUPTs the engine executed (a scanned shadow workload has none: the
 *     scanner takes them out and the execlist layer raises them as virtual events)
 * @param error why the engine stopped early (a GPU page fault, an unknown or illegal command, the command
 *     bound): the workload is hung; empty when it reached the tail
 */
public record HostCompletion(int head, int commands, int userInterrupts, Optional<String> error) {
    public HostCompletion {
        requireNonNull(error, "error is null");
    }

    /** Whether the engine reached the tail. */
    public boolean completed() {
        return error.isEmpty();
    }
}
