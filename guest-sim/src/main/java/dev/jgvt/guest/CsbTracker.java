package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Consumes an engine's context status buffer (six entries and a write pointer) and checks it against what
 * the guest submitted. For an ELSP submission of contexts {@code c0[, c1]} on an idle engine the entries
 * must be: {idle_to_active}, then per element {element_switch | context_complete, c_i} except the last,
 * which is {active_to_idle | context_complete, c_last}. Only the defined status bits are compared (0-4 and
 * 15); the context id of the idle_to_active entry is not checked. Anything else is an error the tracker
 * records; the submission then counts as failed.
 */
final class CsbTracker {
    static final int IDLE_TO_ACTIVE = 1;
    static final int PREEMPTED = 1 << 1;
    static final int ELEMENT_SWITCH = 1 << 2;
    static final int ACTIVE_TO_IDLE = 1 << 3;
    static final int CONTEXT_COMPLETE = 1 << 4;
    static final int LITE_RESTORE = 1 << 15;
    static final int CHECKED_BITS = IDLE_TO_ACTIVE | PREEMPTED | ELEMENT_SWITCH | ACTIVE_TO_IDLE | CONTEXT_COMPLETE
            | LITE_RESTORE;
    static final int ENTRIES = 6;
    /** Write-pointer value meaning "nothing written since reset". */
    static final int NOTHING_WRITTEN = 7;

    /** One CSB entry: the status dword and the context id dword. */
    record Entry(int status, int contextId) {
        @Override
        public String toString() {
            return String.format("{status 0x%x, context 0x%x}", status, contextId);
        }
    }

    enum State { IDLE, PENDING, COMPLETE, FAILED }

    private final String engine;
    private final ArrayDeque<Entry> expected = new ArrayDeque<>();
    private final List<String> errors = new ArrayList<>();
    /** The index of the last entry consumed; the next one is {@code (read + 1) % 6}. */
    private int read = ENTRIES - 1;
    private State state = State.IDLE;
    private int completions;
    /** Indices of the entries consumed for the current submission, in order (the last six when more). */
    private final int[] consumed = new int[ENTRIES];
    private int consumedCount;

    CsbTracker(String engine) {
        this.engine = requireNonNull(engine, "engine is null");
    }

    /** Expects the events of a submission of {@code contextIds} (element 0 first) on an idle engine. */
    void submitted(int... contextIds) {
        if (contextIds.length < 1 || contextIds.length > 2) {
            throw new IllegalArgumentException("an ELSP submission has 1 or 2 elements, not " + contextIds.length);
        }
        if (state == State.PENDING) {
            throw new IllegalStateException(engine + ": a submission is still pending");
        }
        expected.clear();
        consumedCount = 0;
        expected.add(new Entry(IDLE_TO_ACTIVE, -1));
        for (int i = 0; i < contextIds.length; i++) {
            boolean last = i == contextIds.length - 1;
            expected.add(new Entry((last ? ACTIVE_TO_IDLE : ELEMENT_SWITCH) | CONTEXT_COMPLETE, contextIds[i]));
        }
        state = State.PENDING;
    }

    /**
     * Consumes the entries written since the last call: {@code writePointer} is the index of the last entry
     * written (7 = none yet), {@code entries} the six entries. Returns the new state.
     */
    State consume(int writePointer, Entry[] entries) {
        int[] raw = new int[2 * ENTRIES];
        for (int i = 0; i < ENTRIES; i++) {
            raw[2 * i] = entries[i].status();
            raw[2 * i + 1] = entries[i].contextId();
        }
        return consume(writePointer, raw);
    }

    /** As {@link #consume(int, Entry[])}, the entries as read: status and context id of entry i at 2i and 2i + 1. */
    State consume(int writePointer, int[] raw) {
        if (writePointer == NOTHING_WRITTEN) {
            return state;
        }
        if (writePointer < 0 || writePointer >= ENTRIES) {
            fail(String.format("%s: CSB write pointer %d is not an entry index", engine, writePointer));
            return state;
        }
        while (read != writePointer) {
            read = (read + 1) % ENTRIES;
            consumed[consumedCount++ % ENTRIES] = read;
            accept(raw[2 * read], raw[2 * read + 1]);
        }
        return state;
    }

    private void accept(int status, int contextId) {
        Entry want = expected.poll();
        Entry entry = new Entry(status, contextId);
        if (want == null || state != State.PENDING) {
            if (state != State.FAILED) {
                fail(String.format("%s: unexpected CSB entry %s at index %d (nothing was pending)", engine, entry, read));
            }
            return;
        }
        boolean statusOk = (entry.status() & CHECKED_BITS) == want.status();
        boolean idOk = want.contextId() == -1 || entry.contextId() == want.contextId();
        if (!statusOk || !idOk) {
            fail(String.format("%s: CSB entry %d is %s, expected {status 0x%x%s}", engine, read, entry, want.status(),
                    want.contextId() == -1 ? "" : String.format(", context 0x%x", want.contextId())));
            return;
        }
        if ((want.status() & CONTEXT_COMPLETE) != 0) {
            completions++;
        }
        if (expected.isEmpty()) {
            state = State.COMPLETE;
        }
    }

    private void fail(String error) {
        errors.add(error);
        state = State.FAILED;
        expected.clear();
    }

    /** Ends the current submission with an error (a timeout, a bad context image). */
    void abandon(String error) {
        fail(engine + ": " + error);
    }

    /** The engine was reset: its CSB starts again from "nothing written", nothing is pending. */
    void engineReset() {
        read = ENTRIES - 1;
        expected.clear();
        state = State.IDLE;
    }

    /** Forgets a finished submission (complete or failed); the next one may be submitted. */
    void reset() {
        if (state != State.PENDING) {
            state = State.IDLE;
        }
    }

    State state() {
        return state;
    }

    /** The index of the last entry consumed (the guest's CSB read pointer). */
    int readPointer() {
        return read;
    }

    /** The indices of the entries consumed for the current (or last) submission. */
    List<Integer> consumedIndices() {
        List<Integer> indices = new ArrayList<>();
        for (int k = 0; k < consumedCount(); k++) {
            indices.add(consumedIndex(k));
        }
        return indices;
    }

    /** How many entries the current (or last) submission consumed (at most six are remembered). */
    int consumedCount() {
        return Math.min(consumedCount, ENTRIES);
    }

    /** The index of the {@code k}-th remembered entry consumed. */
    int consumedIndex(int k) {
        return consumed[consumedCount <= ENTRIES ? k : (consumedCount + k) % ENTRIES];
    }

    int completions() {
        return completions;
    }

    /** Errors found since the last call. */
    List<String> takeErrors() {
        if (errors.isEmpty()) {
            return List.of();
        }
        List<String> taken = List.copyOf(errors);
        errors.clear();
        return taken;
    }
}
