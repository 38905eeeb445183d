package dev.jgvt.sim.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.EngineState;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.sim.GpuAddressSpace;
import dev.jgvt.sim.GpuAddressWalker;
import dev.jgvt.sim.GpuFault;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One simulated command streamer: fetches commands from the ring slice and the batch buffers it calls, through
 * the GPU's walker, and executes them (see {@link EngineCommands}). Holds the engine's register file, which
 * persists across submissions. One submission at a time ({@link #execute} is synchronized). A submission with a
 * slice budget stops at the first arbitration point (MI_ARB_CHECK, a batch buffer start) after the budget and
 * reports its position; the next submission resumes there, fetching from memory again.
 */
final class CommandStreamer {
    private static final int MAX_DWORDS = (1 << 16) + 1;
    private static final int SECOND_LEVEL = 1 << 22;
    private static final int PPGTT_BATCH = 1 << 8;
    private static final long[] NO_GPRS = {};

    private final Engine engine;
    /** The engine's class in the decoder: render 0, blitter 1, video 2, video enhancement 3. */
    private final int engineClass;
    final GpuAddressWalker walker;
    private final EngineCommands commands;
    final EngineRegisters registers;
    private final BlitCommands blits;
    final UserMode userMode;
    /** The memory and register commands (stores, loads, post-syncs, conditional end). */
    final MemoryCommands memory = new MemoryCommands(this);
    final int[] dw = new int[MAX_DWORDS];
    /** Set by an arbitration point (MI_ARB_CHECK, a batch buffer start) the current command reached. */
    private boolean arbitration;

    // State of the submission being executed.
    private Submission submission;
    private List<EngineEvent> events;
    private int level;
    private GpuAddressSpace batchSpace;
    /** The current batch is in the PPGTT: non-privileged (the {@link UserMode} rules apply to its commands). */
    private boolean batchPpgtt;
    private long batchAddress;
    private GpuAddressSpace returnSpace;
    private boolean returnPpgtt;
    private long returnAddress;
    private int ringPos;
    // The command being executed.
    private int commandLevel;
    private GpuAddressSpace commandSpace;
    private long commandAddress;
    private int commandRingOffset;
    private String commandName;

    CommandStreamer(Engine engine, GpuAddressWalker walker, EngineCommands commands) {
        this.engine = requireNonNull(engine, "engine is null");
        this.engineClass = switch (engine) {
            case RCS -> 0;
            case BCS -> 1;
            case VCS, VCS2 -> 2;
            case VECS -> 3;
        };
        this.walker = requireNonNull(walker, "walker is null");
        this.commands = requireNonNull(commands, "commands is null");
        this.blits = new BlitCommands(walker);
        this.registers = new EngineRegisters(engine.mmioBase());
        this.userMode = new UserMode(engine);
    }

    /** Stops the engine with an error; thrown by operations, caught by the fetch loop. */
    static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient EngineError error;

        Stop(EngineError error) {
            super(null, null, false, false);
            this.error = error;
        }
    }

    synchronized int readRegister(int offset) {
        return registers.read(offset & 0x7FFFFC);
    }

    synchronized void writeRegister(int offset, int value) {
        registers.write(offset & 0x7FFFFC, value);
    }

    synchronized Completion execute(Submission s) {
        submission = s;
        events = new ArrayList<>();
        EngineState from = s.resumeAt();
        if (from == null) {
            level = 0;
            ringPos = s.head();
            commandRingOffset = s.head();
            registers.restoreGprs(NO_GPRS); // a fresh workload sees no other workload's GPRs
        } else {
            restore(from);
        }
        long deadline = s.sliceNanos() == 0 ? 0 : System.nanoTime() + s.sliceNanos();
        int count = 0;
        int sinceArbitration = 0;
        try {
            while (level != 0 || ringPos != s.tail()) {
                markCommand();
                if (sinceArbitration == s.maxCommands()) {
                    return finish(count, new EngineError.CommandLimit(location(), s.maxCommands()));
                }
                count++;
                sinceArbitration++;
                commandName = "(fetch)";
                int header = fetchHeader();
                HwCommand def = commands.table.find(engineClass, header);
                if (def == null) {
                    HwCommand other = commands.table.findOnAnyEngine(header);
                    return finish(count, new EngineError.UnknownCommand(location(), header, other == null ? null : other.name()));
                }
                commandName = def.name();
                int length = def.length(header);
                if (level == 0 && 4L * length > ringDistance(ringPos, s.tail())) {
                    return finish(count, new EngineError.IllegalCommand(location(), commandName,
                            length + " dwords run past the tail at 0x" + Integer.toHexString(s.tail())));
                }
                dw[0] = header;
                fetchRest(length);
                advance(length);
                EngineCommands.Op op = commands.op(def);
                if (op != null) {
                    op.execute(this, length);
                }
                if (arbitration) {
                    arbitration = false;
                    sinceArbitration = 0;
                    if (deadline != 0 && System.nanoTime() - deadline >= 0 && (level != 0 || ringPos != s.tail())) {
                        return suspend(count);
                    }
                }
            }
            return finish(count, null);
        } catch (GpuFault fault) {
            return finish(count, new EngineError.PageFault(location(), commandName, fault));
        } catch (Stop stop) {
            return finish(count, stop.error);
        }
    }

    private void restore(EngineState from) {
        level = from.level();
        ringPos = from.ringOffset();
        commandRingOffset = from.ringCommand();
        batchPpgtt = from.batchPpgtt();
        batchSpace = batchPpgtt ? submission.ppgtt() : GpuAddressSpace.GGTT;
        batchAddress = from.batchAddress();
        returnPpgtt = from.returnPpgtt();
        returnSpace = returnPpgtt ? submission.ppgtt() : GpuAddressSpace.GGTT;
        returnAddress = from.returnAddress();
        registers.restoreGprs(from.gprs());
    }

    /** Ends the slice at an arbitration point, the workload unfinished. */
    private Completion suspend(int count) {
        int ringCommand = level == 0 ? ringPos : commandRingOffset;
        EngineState state = new EngineState(ringPos, ringCommand, level, level == 0 ? 0 : batchAddress,
                level != 0 && batchPpgtt, level == 2 ? returnAddress : 0, level == 2 && returnPpgtt,
                registers.saveGprs());
        Completion c = new Completion(submission, ringCommand, count, events, Optional.empty(), state);
        submission = null;
        events = null;
        return c;
    }

    private Completion finish(int count, EngineError error) {
        int head = error == null ? ringPos : commandRingOffset;
        Completion c = new Completion(submission, head, count, events, Optional.ofNullable(error), null);
        submission = null;
        events = null;
        return c;
    }

    private void markCommand() {
        commandLevel = level;
        if (level == 0) {
            commandRingOffset = ringPos;
            commandSpace = GpuAddressSpace.GGTT;
            commandAddress = submission.ringAddress() + ringPos;
        } else {
            commandSpace = batchSpace;
            commandAddress = batchAddress;
        }
    }

    private Location location() {
        Location.Buffer buffer = switch (commandLevel) {
            case 0 -> Location.Buffer.RING;
            case 1 -> Location.Buffer.FIRST_LEVEL_BATCH;
            default -> Location.Buffer.SECOND_LEVEL_BATCH;
        };
        return new Location(buffer, commandSpace, commandAddress, commandRingOffset);
    }

    private int fetchHeader() {
        if (level == 0) {
            return walker.readInt(GpuAddressSpace.GGTT, submission.ringAddress() + ringPos);
        }
        return walker.readInt(batchSpace, batchAddress);
    }

    /** Reads dwords 1 .. length-1 of the current command into {@link #dw}, one translation per page. */
    private void fetchRest(int length) {
        int count = length - 1;
        if (count == 0) {
            return;
        }
        if (level != 0) {
            walker.readInts(batchSpace, batchAddress + 4, dw, 1, count);
            return;
        }
        int start = (ringPos + 4) % submission.ringSize();
        int first = Math.min(count, (submission.ringSize() - start) / 4);
        walker.readInts(GpuAddressSpace.GGTT, submission.ringAddress() + start, dw, 1, first);
        if (first < count) {
            walker.readInts(GpuAddressSpace.GGTT, submission.ringAddress(), dw, 1 + first, count - first);
        }
    }

    private void advance(int length) {
        if (level == 0) {
            ringPos = (int) ((ringPos + 4L * length) % submission.ringSize());
        } else {
            batchAddress += 4L * length;
        }
    }

    private int ringDistance(int from, int to) {
        return to >= from ? to - from : submission.ringSize() - from + to;
    }

    Stop illegal(String reason) {
        return new Stop(new EngineError.IllegalCommand(location(), commandName, reason));
    }

    void requireLength(int length, int needed) {
        if (length < needed) {
            throw illegal("needs at least " + needed + " dwords, has " + length);
        }
    }

    static long address(int low, int high) {
        return (low & 0xFFFF_FFFCL) | ((long) (high & 0xFFFF) << 32);
    }

    GpuAddressSpace space(boolean ggtt) {
        return ggtt ? GpuAddressSpace.GGTT : submission.ppgtt();
    }

    void event(EngineEvent.Kind kind) {
        events.add(new EngineEvent(kind, location()));
    }

    /** The command being executed comes from a non-privileged (PPGTT) batch buffer. */
    private boolean nonPrivileged() {
        return level != 0 && batchPpgtt;
    }

    /**
     * In a non-privileged batch, a command that would use a privilege it does not have is dropped as the hardware
     * drops it (converted to MI_NOOP) and reported as a {@link EngineEvent.Kind#PRIVILEGE_VIOLATION}; returns
     * whether the command must be dropped.
     */
    boolean violates(boolean privilegedUse) {
        if (privilegedUse && nonPrivileged()) {
            event(EngineEvent.Kind.PRIVILEGE_VIOLATION);
            return true;
        }
        return false;
    }

    boolean userRegister(int offset) {
        return userMode.allowed(offset & 0x7FFFFC);
    }

    // ---- MI commands -------------------------------------------------------------------------------------

    void batchBufferStart(int length) {
        long target = address(dw[1], length >= 3 ? dw[2] : 0);
        // a batch started from a PPGTT batch is in the PPGTT whatever its address space indicator says
        boolean ppgtt = (dw[0] & PPGTT_BATCH) != 0 || nonPrivileged();
        boolean second = (dw[0] & SECOND_LEVEL) != 0;
        switch (level) {
            case 0 -> {
                if (second) {
                    throw illegal("a second-level batch cannot start from the ring");
                }
                level = 1;
            }
            case 1 -> {
                if (second) {
                    returnSpace = batchSpace;
                    returnPpgtt = batchPpgtt;
                    returnAddress = batchAddress;
                    level = 2;
                }
                // else: chained, the new batch replaces the current one
            }
            default -> throw illegal("no batch buffer start inside a second-level batch");
        }
        batchPpgtt = ppgtt;
        batchSpace = ppgtt ? submission.ppgtt() : GpuAddressSpace.GGTT;
        batchAddress = target;
        arbitration = true;
    }

    void arbCheck(int length) {
        arbitration = true;
    }

    void batchBufferEnd(int length) {
        switch (level) {
            case 2 -> {
                level = 1;
                batchSpace = returnSpace;
                batchPpgtt = returnPpgtt;
                batchAddress = returnAddress;
            }
            case 1 -> level = 0;
            default -> {
                // In the ring the command has nothing to return from: no effect.
            }
        }
    }

    void math(int length) {
        registers.math(dw, length);
    }

    void userInterrupt(int length) {
        event(EngineEvent.Kind.USER_INTERRUPT);
    }

    // ---- blitter (decoded and executed by BlitCommands) ----------------------------------------------------

    void colorBlt(int length) {
        blitted(blits.colorBlt(dw, length, submission.ppgtt(), registers.read(BlitCommands.BCS_SWCTRL)));
    }

    void srcCopyBlt(int length) {
        blitted(blits.srcCopyBlt(dw, length, submission.ppgtt(), registers.read(BlitCommands.BCS_SWCTRL)));
    }

    void fastCopyBlt(int length) {
        blitted(blits.fastCopyBlt(dw, length, submission.ppgtt()));
    }

    private void blitted(String illegalReason) {
        if (illegalReason != null) {
            throw illegal(illegalReason);
        }
    }
}
