package dev.jgvt.sim.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.EngineState;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.sim.GpuAddressSpace;

/**
 * One unit of work for a simulated engine: execute the ring buffer slice {@code [head, tail)} of the ring at
 * GGTT address {@code ringAddress} (wrapping at {@code ringSize}). This is what an execlist layer derives from
 * a logical ring context (RING_START, RING_HEAD, RING_TAIL, the PDPs): the future {@code HostGpu} engine part
 * takes exactly this.
 *
 * @param engine the command streamer
 * @param ringAddress GGTT address of the ring buffer, page aligned (rings always live in the GGTT)
 * @param ringSize ring size in bytes: a multiple of 4096 in [4096, 2 MiB]
 * @param head byte offset of the first command, qword aligned, in [0, ringSize)
 * @param tail byte offset where execution stops, qword aligned, in [0, ringSize); {@code head == tail} is empty
 * @param ppgtt the context's address space: a PPGTT (by its root) used for batch buffers with the PPGTT bit,
 *     for stores without the "use global GTT" bit and for blitter surfaces; {@link GpuAddressSpace#GGTT} for a
 *     context without a PPGTT (then those accesses go to the GGTT)
 * @param maxCommands how many commands (ring and batch) the engine executes without reaching an arbitration point
 *     (MI_ARB_CHECK, a batch buffer start) before it declares the workload hung; at least 1
 * @param sliceNanos with a positive value the engine stops at the first arbitration point it reaches after this
 *     many nanoseconds and reports the unfinished workload's state ({@link Completion#preempted()}); 0 runs the
 *     workload to its end
 * @param resumeAt where an earlier slice of this workload stopped (from its {@link Completion#state()}), or null
 *     to start at {@code head}
 */
public record Submission(Engine engine, long ringAddress, int ringSize, int head, int tail, GpuAddressSpace ppgtt,
        int maxCommands, long sliceNanos, EngineState resumeAt) {
    /** The command bound used by {@link #of}. */
    public static final int DEFAULT_MAX_COMMANDS = 1 << 20;

    public Submission {
        requireNonNull(engine, "engine is null");
        requireNonNull(ppgtt, "ppgtt is null");
        if (ringAddress < 0 || (ringAddress & 0xFFF) != 0) {
            throw new IllegalArgumentException("ring address must be page aligned: 0x" + Long.toHexString(ringAddress));
        }
        if (ringSize < 4096 || ringSize > (2 << 20) || ringSize % 4096 != 0) {
            throw new IllegalArgumentException("ring size must be a multiple of 4096 in [4096, 2 MiB]: " + ringSize);
        }
        checkOffset("head", head, ringSize);
        checkOffset("tail", tail, ringSize);
        if (maxCommands < 1) {
            throw new IllegalArgumentException("max commands must be positive: " + maxCommands);
        }
        if (sliceNanos < 0) {
            throw new IllegalArgumentException("slice must not be negative: " + sliceNanos);
        }
        if (resumeAt != null && (resumeAt.ringOffset() >= ringSize || resumeAt.ringCommand() >= ringSize)) {
            throw new IllegalArgumentException("resume state outside the ring: " + resumeAt);
        }
    }

    /** A whole workload (no slicing) from {@code head}. */
    public Submission(Engine engine, long ringAddress, int ringSize, int head, int tail, GpuAddressSpace ppgtt,
            int maxCommands) {
        this(engine, ringAddress, ringSize, head, tail, ppgtt, maxCommands, 0, null);
    }

    /** The same workload in slices of {@code nanos}. */
    public Submission sliced(long nanos) {
        return new Submission(engine, ringAddress, ringSize, head, tail, ppgtt, maxCommands, nanos, resumeAt);
    }

    /** The same workload continued from {@code state}. */
    public Submission resume(EngineState state) {
        return new Submission(engine, ringAddress, ringSize, head, tail, ppgtt, maxCommands, sliceNanos, state);
    }

    /** A submission with the {@linkplain #DEFAULT_MAX_COMMANDS default command bound}. */
    public static Submission of(Engine engine, long ringAddress, int ringSize, int head, int tail, GpuAddressSpace ppgtt) {
        return new Submission(engine, ringAddress, ringSize, head, tail, ppgtt, DEFAULT_MAX_COMMANDS);
    }

    private static void checkOffset(String what, int offset, int ringSize) {
        if (offset < 0 || offset >= ringSize || (offset & 7) != 0) {
            throw new IllegalArgumentException(what + " must be qword aligned in [0, " + ringSize + "): " + offset);
        }
    }
}
