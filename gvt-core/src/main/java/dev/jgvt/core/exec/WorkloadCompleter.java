package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.cmd.RecordedEvents;
import dev.jgvt.core.gtt.GgttShadow;
import dev.jgvt.core.gtt.PpgttShadower;
import dev.jgvt.core.gtt.ShadowPpgtt;
import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 3 of submission, under the vGPU's lock on the thread that saw the host finish: what the guest sees of a
 * completed workload. The ring head written back into its context, the virtual events the scanner took out raised,
 * the context-status events emitted through the engine's {@link VirtualExeclist} (whose CSB entries this mirrors
 * into the guest's hardware status page) and the shadow address spaces released.
 */
final class WorkloadCompleter {
    private static final Logger log = LoggerFactory.getLogger(WorkloadCompleter.class);
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Execlists owner;
    private final Vgpu vgpu;
    private final int vgpuId;
    private final MmioSpace mmio;
    private final GuestMemory memory;
    private final GgttShadow ggtt;
    private final PpgttShadower ppgtt;
    private final ElspDecoder decoder;
    private final VirtualExeclist[] execlists;
    private final ExecStats.Counters stats;
    /** Eight bytes of scratch for guest memory writes, and its first four. */
    private final MemorySegment qword;
    private final MemorySegment dword;

    WorkloadCompleter(Execlists owner, Vgpu vgpu, GuestMemory memory, GgttShadow ggtt, PpgttShadower ppgtt,
            ElspDecoder decoder, VirtualExeclist[] execlists, ExecStats.Counters stats, MemorySegment scratch) {
        this.owner = requireNonNull(owner, "owner is null");
        this.vgpu = requireNonNull(vgpu, "vgpu is null");
        this.vgpuId = vgpu.id();
        this.mmio = vgpu.mmio();
        this.memory = requireNonNull(memory, "memory is null");
        this.ggtt = requireNonNull(ggtt, "ggtt is null");
        this.ppgtt = requireNonNull(ppgtt, "ppgtt is null");
        this.decoder = requireNonNull(decoder, "decoder is null");
        this.execlists = requireNonNull(execlists, "execlists is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.qword = requireNonNull(scratch, "scratch is null");
        if (scratch.byteSize() != 8) {
            throw new IllegalArgumentException("scratch must be 8 bytes, not " + scratch.byteSize());
        }
        this.dword = scratch.asSlice(0, 4);
    }

    /**
     * Completes {@code w} after the host engine stopped (gvt-g.md §7.4): on success the guest's RING_HEAD becomes
     * the workload's tail, the recorded events are raised and the schedule-out is emulated (unless the next queued
     * workload continues the same context: a lite restore); a hang drops the engine's queue and the guest sees no
     * completion. The workload's shadow address spaces are released in every case.
     *
     * @param done the host's report, or null when the workload never reached the host
     * @param detached whether submission for the vGPU was closed meanwhile
     */
    void complete(Workload w, HostCompletion done, boolean detached) {
        try {
            if (done != null) {
                stats.commandsExecuted += done.commands();
            }
            if (w.failure != null || done == null || detached) {
                if (done != null) {
                    stats.failed++; // reached the host, then failed by an engine reset or a detach
                }
                return;
            }
            if (w.ramUnmapped()) {
                stats.failed++;
                w.failure = "guest RAM the workload used was unmapped while it ran";
                log.warn("vGPU {}: {} failed: {}", vgpuId, w, w.failure);
                return;
            }
            if (!done.completed()) {
                stats.hung++;
                w.failure = "GPU hang: " + done.error().orElseThrow();
                log.warn("vGPU {}: {} hung on the host engine: {}", vgpuId, w, done.error().orElseThrow());
                owner.dropEngine(w.engine, "an earlier workload on the engine hung");
                return;
            }
            writeBackHead(w);
            raiseRecorded(w);
            decoder.completed(w);
            stats.completed++;
            Workload next = owner.nextQueued(w.engine);
            // GVT-g: when the next queued submission starts with the same context, the guest expects a lite
            // restore (emitted by that submission's schedule-in), not a completion
            boolean liteRestore = next != null && next.first && next.descriptor.contextId() == w.descriptor.contextId();
            if (!liteRestore) {
                execlists[w.engine.ordinal()].scheduleOut();
            }
        } finally {
            releaseShadows(w);
        }
    }

    private void releaseShadows(Workload w) {
        if (w.mm != null) {
            ppgtt.unpin(w.mm);
            ppgtt.release(w.mm);
            w.mm = null;
        }
        for (ShadowPpgtt mm : w.loadedPdps) {
            ppgtt.unpin(mm);
            ppgtt.release(mm);
        }
        w.releasedLoaded();
    }

    private void writeBackHead(Workload w) {
        int base = w.engine.mmioBase();
        long active = w.context.ringStart() + w.tail;
        mmio.set(base + Gen9Registers.RING_HEAD, w.tail); // the engine reached the tail (idle until the next one)
        mmio.set(base + Gen9Registers.RING_ACTHD, (int) active);
        mmio.set(base + Gen9Registers.RING_ACTHD_UDW, (int) (active >>> 32));
        dword.set(DW, 0, w.tail);
        try {
            memory.write(w.ringContextGpa + RingContext.HEAD_VALUE * 4L, dword);
        } catch (GvtException ex) {
            log.debug("vGPU {}: context image of {} vanished before completion: {}", vgpuId, w, ex.getMessage());
        }
    }

    private void raiseRecorded(Workload w) {
        int bits = w.events;
        if ((bits & RecordedEvents.USER_INTERRUPT) != 0) {
            vgpu.raise(IrqEvent.userInterrupt(w.engine));
        }
        if ((bits & RecordedEvents.PIPE_CONTROL_NOTIFY) != 0 && w.engine == Engine.RCS) {
            vgpu.raise(IrqEvent.notify(w.engine));
        }
        if ((bits & RecordedEvents.FLUSH_DW_NOTIFY) != 0 && w.engine != Engine.RCS) {
            vgpu.raise(IrqEvent.notify(w.engine));
        }
    }

    /**
     * Mirrors CSB entry {@code entry} into the hardware status page the guest programmed for {@code engine}: its two
     * dwords in one guest-memory write, then the write pointer (the order the hardware writes them), the page
     * translated once. Each dword that could not be written counts as a miss, as with {@link #writeHwsp}.
     */
    void writeCsb(Engine engine, int entry, int status, int contextId) {
        long gpa = hwspGpa(engine);
        if (gpa < 0) {
            stats.hwspMisses += 3;
            return;
        }
        qword.set(DW, 0, status);
        qword.set(DW, 4, contextId);
        try {
            memory.write(gpa + (VirtualExeclist.HWSP_CSB + 2L * entry) * 4, qword);
        } catch (GvtException e) {
            stats.hwspMisses += 2;
        }
        dword.set(DW, 0, entry);
        try {
            memory.write(gpa + VirtualExeclist.HWSP_CSB_WRITE_POINTER * 4L, dword);
        } catch (GvtException e) {
            stats.hwspMisses++;
        }
    }

    /** The guest physical address of {@code engine}'s hardware status page, or -1 when its GGTT entry maps none. */
    private long hwspGpa(Engine engine) {
        long hwsp = mmio.get(engine.mmioBase() + Gen9Registers.RING_HWS_PGA) & 0xFFFF_F000L;
        return ggtt.gmaToGpa(hwsp);
    }

    /** Mirrors a CSB write into the hardware status page the guest programmed for {@code engine}. */
    void writeHwsp(Engine engine, int index, int value) {
        long gpa = hwspGpa(engine);
        if (gpa < 0) {
            stats.hwspMisses++;
            return;
        }
        dword.set(DW, 0, value);
        try {
            memory.write(gpa + index * 4L, dword);
        } catch (GvtException e) {
            stats.hwspMisses++;
        }
    }
}
