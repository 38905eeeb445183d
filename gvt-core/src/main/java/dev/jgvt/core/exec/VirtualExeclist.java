package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;

/**
 * One engine's virtual execlist as the guest sees it (gvt-g.md §7.1): the running and pending submissions (two
 * elements each), the context status buffer (six entries and its pointer register, mirrored into the hardware
 * status page the guest programmed) and EXECLIST_STATUS. Context-status events are emitted in the order the
 * hardware produces them; each one raises the engine's context-switch interrupt.
 *
 * <p>Used under the vGPU's lock only.
 */
final class VirtualExeclist {
    /** CSB status bits (low dword of an entry). */
    static final int IDLE_TO_ACTIVE = 1;
    static final int PREEMPTED = 1 << 1;
    static final int ELEMENT_SWITCH = 1 << 2;
    static final int ACTIVE_TO_IDLE = 1 << 3;
    static final int CONTEXT_COMPLETE = 1 << 4;
    static final int LITE_RESTORE = 1 << 15;
    static final int CSB_ENTRIES = 6;
    /** Write-pointer value meaning "nothing written since reset". */
    static final int CSB_RESET_POINTER = 7;
    /** HWSP dword index of CSB entry 0 and of the CSB write pointer (Gen8-10). */
    static final int HWSP_CSB = 0x10;
    static final int HWSP_CSB_WRITE_POINTER = 0x1F;

    /** Where CSB entries are mirrored and how the engine's interrupt is raised. */
    interface Sink {
        /** Writes {@code value} at dword {@code index} of the engine's hardware status page (if one is set). */
        void hwspWrite(Engine engine, int index, int value);

        /**
         * Mirrors CSB entry {@code entry} ({@code status}, {@code contextId}) and then the write pointer, now
         * {@code entry}, into the hardware status page; by default three {@link #hwspWrite}s in that order.
         */
        default void csbWritten(Engine engine, int entry, int status, int contextId) {
            hwspWrite(engine, HWSP_CSB + 2 * entry, status);
            hwspWrite(engine, HWSP_CSB + 2 * entry + 1, contextId);
            hwspWrite(engine, HWSP_CSB_WRITE_POINTER, entry);
        }

        /** Raises the engine's context-switch interrupt. */
        void contextSwitch(Engine engine);
    }

    /** One ELSP submission: up to two elements (context ids), element 0 runs first. */
    static final class Slot {
        final int[] contextIds;

        Slot(int... contextIds) {
            this.contextIds = contextIds.clone();
        }

        int count() {
            return contextIds.length;
        }
    }

    private final Engine engine;
    private final MmioSpace mmio;
    private final Sink sink;
    private Slot running;
    private int runningElement;
    private Slot pending;
    private long events;

    VirtualExeclist(Engine engine, MmioSpace mmio, Sink sink) {
        this.engine = requireNonNull(engine, "engine is null");
        this.mmio = requireNonNull(mmio, "mmio is null");
        this.sink = requireNonNull(sink, "sink is null");
    }

    /** Back to power-on state: idle, CSB write pointer "nothing written", read pointer 0. */
    void reset() {
        running = null;
        pending = null;
        runningElement = 0;
        int ptr = mmio.get(engine.mmioBase() + Gen9Registers.RING_CSB_PTR);
        mmio.set(engine.mmioBase() + Gen9Registers.RING_CSB_PTR, (ptr & ~0x7FF) | CSB_RESET_POINTER);
        updateStatus();
    }

    /** Whether both slots are taken (a further submission is a guest error). */
    boolean full() {
        return running != null && pending != null;
    }

    boolean idle() {
        return running == null;
    }

    /**
     * The first element of {@code slot} starts: idle → running with {idle-to-active}; the running context
     * resubmitted as element 0 → lite restore {lite-restore | preempted}, the new slot replaces the running one;
     * otherwise the slot waits as pending.
     */
    void scheduleIn(Slot slot) {
        requireNonNull(slot, "slot is null");
        if (running == null) {
            running = slot;
            runningElement = 0;
            emit(IDLE_TO_ACTIVE, 0);
        } else if (running.contextIds[runningElement] == slot.contextIds[0]) {
            int id = running.contextIds[runningElement];
            running = slot;
            runningElement = 0;
            emit(LITE_RESTORE | PREEMPTED, id);
        } else {
            pending = slot;
        }
        updateStatus();
    }

    /**
     * The running element finished: element 0 of two → {element-switch | complete} and element 1 runs; the
     * last element → {active-to-idle | complete}, and a pending slot becomes running with {idle-to-active}.
     */
    void scheduleOut() {
        if (running == null) {
            return;
        }
        int id = running.contextIds[runningElement];
        if (runningElement + 1 < running.count()) {
            runningElement++;
            emit(ELEMENT_SWITCH | CONTEXT_COMPLETE, id);
        } else {
            running = null;
            runningElement = 0;
            emit(ACTIVE_TO_IDLE | CONTEXT_COMPLETE, id);
            if (pending != null) {
                running = pending;
                pending = null;
                emit(IDLE_TO_ACTIVE, 0);
            }
        }
        updateStatus();
    }

    /** The id of the running context, or -1 when idle. */
    int runningContext() {
        return running == null ? -1 : running.contextIds[runningElement];
    }

    /** Context-status events emitted since creation. */
    long events() {
        return events;
    }

    private void emit(int status, int contextId) {
        int base = engine.mmioBase();
        int ptr = mmio.get(base + Gen9Registers.RING_CSB_PTR);
        int write = ptr & 7;
        int next = write >= CSB_ENTRIES ? 0 : (write + 1) % CSB_ENTRIES;
        mmio.set(base + Gen9Registers.RING_CSB + 8 * next, status);
        mmio.set(base + Gen9Registers.RING_CSB + 8 * next + 4, contextId);
        mmio.set(base + Gen9Registers.RING_CSB_PTR, (ptr & ~7) | next);
        sink.csbWritten(engine, next, status, contextId);
        events++;
        sink.contextSwitch(engine);
    }

    /**
     * EXECLIST_STATUS: low dword bit 0 current execlist pointer, bit 3/4 element 1/0 valid, bit 17/18 element
     * 1/0 active; high dword the current context id.
     */
    private void updateStatus() {
        int base = engine.mmioBase();
        int low = 0;
        int high = 0;
        if (running != null) {
            low |= 1 << 4;
            if (running.count() > 1) {
                low |= 1 << 3;
            }
            low |= runningElement == 0 ? 1 << 18 : 1 << 17;
            high = running.contextIds[runningElement];
        }
        if (pending != null) {
            low |= 1 << 1;
        }
        mmio.set(base + Gen9Registers.RING_EXECLIST_STATUS, low);
        mmio.set(base + Gen9Registers.RING_EXECLIST_STATUS + 4, high);
    }
}
