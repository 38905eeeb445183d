package dev.jgvt.sim.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.sim.GpuFault;

/** Why an engine stopped before reaching the tail: the workload is hung. */
public sealed interface EngineError {
    /** Where the engine stopped. */
    Location where();

    /** A one-line description naming the command, its location and the cause. */
    String describe();

    /**
     * A memory access of {@code command} (or the fetch of its dwords, command "(fetch)") faulted.
     *
     * @param fault the walker's fault, naming the faulting address and table level
     */
    record PageFault(Location where, String command, GpuFault fault) implements EngineError {
        public PageFault {
            requireNonNull(where, "where is null");
            requireNonNull(command, "command is null");
            requireNonNull(fault, "fault is null");
        }

        @Override
        public String describe() {
            return "GPU page fault in " + command + " at " + where + ": " + fault.getMessage();
        }
    }

    /** The dword at {@code where} is not a command of the engine ({@code elsewhere}: the engine it belongs to, or null). */
    record UnknownCommand(Location where, int header, String elsewhere) implements EngineError {
        public UnknownCommand {
            requireNonNull(where, "where is null");
        }

        @Override
        public String describe() {
            return "unknown command 0x" + Integer.toHexString(header) + " at " + where
                    + (elsewhere == null ? "" : " (" + elsewhere + " is not a command of this engine)");
        }
    }

    /** A known command the engine cannot execute as written (bad length, illegal nesting, unsupported mode). */
    record IllegalCommand(Location where, String command, String reason) implements EngineError {
        public IllegalCommand {
            requireNonNull(where, "where is null");
            requireNonNull(command, "command is null");
            requireNonNull(reason, "reason is null");
        }

        @Override
        public String describe() {
            return command + " at " + where + ": " + reason;
        }
    }

    /** The submission's command bound was reached (a self-chaining batch, or a too long workload). */
    record CommandLimit(Location where, int limit) implements EngineError {
        public CommandLimit {
            requireNonNull(where, "where is null");
        }

        @Override
        public String describe() {
            return "command limit of " + limit + " reached at " + where;
        }
    }
}
