package dev.jgvt.sim.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.sim.GpuAddressSpace;
import dev.jgvt.sim.SimGpu;
import java.util.EnumMap;
import java.util.Map;

/**
 * The software GPU's command streamers (RCS, BCS, VCS, VCS2, VECS), executing submissions through the GPU's
 * GGTT and PPGTT walker.
 *
 * <p><b>Execution model.</b> {@link #submit} runs the submission synchronously on the caller's thread and
 * returns its {@link Completion}; submissions to one engine are serialized, different engines may run
 * concurrently on different threads. An execlist layer on top turns a completion into context-status events
 * and interrupts. A fault, an unknown command or the command bound never throws: the completion carries the
 * typed {@link EngineError} and the workload counts as hung.
 */
public final class SimEngines {
    private final Map<Engine, CommandStreamer> streamers = new EnumMap<>(Engine.class);

    public SimEngines(SimGpu gpu) {
        requireNonNull(gpu, "gpu is null");
        EngineCommands commands = EngineCommands.gen9();
        for (Engine engine : Engine.values()) {
            streamers.put(engine, new CommandStreamer(engine, gpu.walker().withTranslationCache(), commands));
        }
    }

    /** Executes {@code submission} to its tail, the first error or the end of its slice. */
    public Completion submit(Submission submission) {
        requireNonNull(submission, "submission is null");
        return streamers.get(submission.engine()).execute(submission);
    }

    /**
     * Executes a host submission (the {@link dev.jgvt.core.host.HostGpu#execute} contract): converts it to a
     * {@link Submission} in the address space it names and reports the result in the core's terms.
     */
    public HostCompletion execute(HostSubmission submission) {
        requireNonNull(submission, "submission is null");
        GpuAddressSpace space = switch (submission.levels()) {
            case 4 -> new GpuAddressSpace.Ppgtt4(submission.root(0));
            case 3 -> new GpuAddressSpace.Ppgtt3(submission.roots());
            default -> GpuAddressSpace.GGTT;
        };
        Completion done = submit(new Submission(submission.engine(), submission.ringAddress(), submission.ringSize(),
                submission.head(), submission.tail(), space, submission.maxCommands(), submission.sliceNanos(),
                submission.resumeAt()));
        return new HostCompletion(done.head(), done.commands(), (int) done.userInterrupts(),
                done.error().map(EngineError::describe), done.state());
    }

    /** The command streamer of {@code engine} (tests look at its walker's cache). */
    CommandStreamer streamer(Engine engine) {
        return streamers.get(engine);
    }

    /** The value of register {@code offset} (MMIO offset) in {@code engine}'s register file; 0 until written. */
    public int readRegister(Engine engine, int offset) {
        return streamers.get(requireNonNull(engine, "engine is null")).readRegister(offset);
    }

    /** Writes register {@code offset} of {@code engine}'s register file (as an MMIO write would). */
    public void writeRegister(Engine engine, int offset, int value) {
        streamers.get(requireNonNull(engine, "engine is null")).writeRegister(offset, value);
    }
}
