package dev.jgvt.sim.engine;

import static java.util.Objects.requireNonNull;

/**
 * Something an engine signalled while executing, in order: what an interrupt controller turns into
 * interrupts (user interrupt, PIPE_CONTROL and MI_FLUSH_DW notify), and the privilege violations of non-privileged
 * batches (no interrupt: the hardware only records them).
 *
 * @param kind what was signalled
 * @param where the command that signalled it
 */
public record EngineEvent(Kind kind, Location where) {
    /** The signalling commands. */
    public enum Kind {
        /** MI_USER_INTERRUPT. */
        USER_INTERRUPT,
        /** PIPE_CONTROL with Notify Enable (DW1 bit 8). */
        PIPE_CONTROL_NOTIFY,
        /** MI_FLUSH_DW with Notify Enable (DW0 bit 8). */
        FLUSH_DW_NOTIFY,
        /**
         * A command of a non-privileged (PPGTT) batch used a privilege it does not have (a GGTT or status-page
         * access, a register outside the user-mode list) and was dropped as MI_NOOP ({@link UserMode}).
         */
        PRIVILEGE_VIOLATION
    }

    public EngineEvent {
        requireNonNull(kind, "kind is null");
        requireNonNull(where, "where is null");
    }
}
