package dev.jgvt.core.host;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import java.util.Arrays;

/**
 * One slice of a shadow workload for a physical engine: execute the ring slice {@code [head, tail)} of the ring at
 * host graphics address {@code ringAddress} (wrapping at {@code ringSize}) in the address space given by
 * {@code levels} and {@code roots}, starting at {@code head} or, for a workload an earlier slice left unfinished,
 * at {@link #resumeAt}. Everything it names lives in host-owned or DMA-mapped memory reached through the host
 * GGTT and the shadow page tables: never guest addresses.
 *
 * <p><b>Slices.</b> With a positive {@code sliceNanos} the engine stops at the first arbitration point
 * (MI_ARB_CHECK, the start of a batch buffer) it reaches after that much time and reports where
 * ({@link HostCompletion#preempted()}); the caller continues the workload later with a submission that names that
 * state. {@code sliceNanos == 0} runs to the tail (or the hang). Memory is re-read as the engine fetches it, so a
 * write made between slices (a CPU ending a spinning batch) is seen by the next slice.
 *
 * @param engine the command streamer
 * @param ringAddress host GGTT address of the (shadow) ring, page aligned
 * @param ringSize ring size in bytes: a multiple of 4096 in [4096, 2 MiB]
 * @param head byte offset of the first command, qword aligned
 * @param tail byte offset where execution stops, qword aligned; {@code head == tail} is an empty workload
 * @param levels 4 for a 48-bit PPGTT ({@code roots[0]} = device address of the shadow PML4), 3 for a legacy
 *     32-bit PPGTT ({@code roots} = the four shadow page-directory device addresses, 0 = not present), 0 for
 *     a context without PPGTT (every access goes to the GGTT)
 * @param roots four device addresses (unused ones 0)
 * @param maxCommands how many commands the engine executes without reaching an arbitration point before it
 *     declares the workload hung (a runaway that can never be sliced)
 * @param sliceNanos the slice's time budget in nanoseconds; 0 = no slicing
 * @param resumeAt where an earlier slice of this workload stopped, or null to start at {@code head}
 */
public record HostSubmission(Engine engine, long ringAddress, int ringSize, int head, int tail, int levels, long[] roots,
        int maxCommands, long sliceNanos, EngineState resumeAt) {
    public HostSubmission {
        requireNonNull(engine, "engine is null");
        requireNonNull(roots, "roots is null");
        if (roots.length != 4) {
            throw new IllegalArgumentException("four roots expected, got " + roots.length);
        }
        if (levels != 0 && levels != 3 && levels != 4) {
            throw new IllegalArgumentException("levels must be 0, 3 or 4: " + levels);
        }
        if (maxCommands < 1) {
            throw new IllegalArgumentException("max commands must be positive: " + maxCommands);
        }
        if (sliceNanos < 0) {
            throw new IllegalArgumentException("slice must not be negative: " + sliceNanos);
        }
        roots = roots.clone();
    }

    /** A whole workload (no slicing) from {@code head}. */
    public HostSubmission(Engine engine, long ringAddress, int ringSize, int head, int tail, int levels, long[] roots,
            int maxCommands) {
        this(engine, ringAddress, ringSize, head, tail, levels, roots, maxCommands, 0, null);
    }

    /** The same workload, continued from {@code state} (where the last slice stopped). */
    public HostSubmission resume(EngineState state) {
        return new HostSubmission(engine, ringAddress, ringSize, head, tail, levels, roots, maxCommands, sliceNanos,
                requireNonNull(state, "state is null"));
    }

    /** The same workload with a host slice of {@code nanos}. */
    public HostSubmission withSlice(long nanos) {
        return new HostSubmission(engine, ringAddress, ringSize, head, tail, levels, roots, maxCommands, nanos, resumeAt);
    }

    @Override
    public long[] roots() {
        return roots.clone();
    }

    /** Root {@code i} without copying the array. */
    public long root(int i) {
        return roots[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostSubmission s && engine == s.engine && ringAddress == s.ringAddress
                && ringSize == s.ringSize && head == s.head && tail == s.tail && levels == s.levels
                && Arrays.equals(roots, s.roots) && maxCommands == s.maxCommands && sliceNanos == s.sliceNanos
                && java.util.Objects.equals(resumeAt, s.resumeAt);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(roots) * 31 + Long.hashCode(ringAddress) + engine.hashCode();
    }

    @Override
    public String toString() {
        return engine + " ring 0x" + Long.toHexString(ringAddress) + "+0x" + Integer.toHexString(ringSize) + " [0x"
                + Integer.toHexString(head) + ", 0x" + Integer.toHexString(tail) + ") "
                + (levels == 0 ? "GGTT" : levels + "-level root 0x" + Long.toHexString(roots[0]))
                + (resumeAt == null ? "" : ", resumed at " + resumeAt);
    }
}
