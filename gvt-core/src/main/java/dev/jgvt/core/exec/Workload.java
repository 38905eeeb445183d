package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.gtt.PpgttRoot;
import dev.jgvt.core.gtt.ShadowPpgtt;
import dev.jgvt.core.host.EngineState;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.List;

/**
 * One guest context submission (an ELSP element): created at ELSP time from the guest's context image, then
 * prepared (scanned, shadowed), executed on the host engine in one or more slices and completed by the dispatcher.
 * Mutable; owned by its {@link Execlists} and touched under the vGPU's lock only, except by the dispatcher between
 * prepare (or resume) and the end of the slice (when only the {@link #submission} is read).
 */
final class Workload {
    final ScheduledVgpu owner;
    final Engine engine;
    final ContextDescriptor descriptor;
    final VirtualExeclist.Slot slot;
    /** Whether starting this workload emulates the slot's schedule-in (the slot's first element). */
    final boolean first;
    /** Guest physical address of the context's register-state page (page 1). */
    final long ringContextGpa;
    final RingContext context;
    final int head;
    final int tail;
    final PpgttRoot root;
    /** The engine's reset epoch when the workload was created. */
    final long epoch;
    /** Set while prepared. */
    ShadowPpgtt mm;
    /** {@code mm}'s {@link ShadowPpgtt#failures()} when this workload pinned it. */
    long mmFailures;
    /** Address spaces an MI_LOAD_REGISTER_IMM of PDPs pointed at, pinned for this workload. */
    final List<ShadowPpgtt> loadedPdps = new ArrayList<>(0);
    /** {@link ShadowPpgtt#failures()} of each of {@link #loadedPdps} when this workload pinned it. */
    private long[] loadedPdpFailures = new long[0];
    HostSubmission submission;
    /** Where the host engine stopped this unfinished workload (between slices), or null. */
    EngineState state;
    /** When its first slice started on the host ({@link System#nanoTime()}). */
    long started;
    /** Slices executed so far. */
    int slices;
    /** Why the workload failed, or null. */
    String failure;
    /** Pending virtual events taken out by the scanner (RecordedEvents bits). */
    int events;
    long scannedBytes;

    Workload(ScheduledVgpu owner, Engine engine, ContextDescriptor descriptor,
            VirtualExeclist.Slot slot, boolean first, long ringContextGpa, RingContext context, int head, int tail,
            PpgttRoot root, long epoch) {
        this.owner = requireNonNull(owner, "owner is null");
        this.engine = requireNonNull(engine, "engine is null");
        this.descriptor = requireNonNull(descriptor, "descriptor is null");
        this.slot = requireNonNull(slot, "slot is null");
        this.first = first;
        this.ringContextGpa = ringContextGpa;
        this.context = requireNonNull(context, "context is null");
        this.head = head;
        this.tail = tail;
        this.root = requireNonNull(root, "root is null");
        this.epoch = epoch;
    }

    /** {@code mm} is pinned for this workload: notes its failure count. */
    void pinned(ShadowPpgtt space) {
        mm = space;
        mmFailures = space.failures();
    }

    /** An address space a PDP load pointed at is pinned for this workload: notes its failure count. */
    void pinnedLoaded(ShadowPpgtt space) {
        loadedPdps.add(space);
        loadedPdpFailures = java.util.Arrays.copyOf(loadedPdpFailures, loadedPdps.size());
        loadedPdpFailures[loadedPdps.size() - 1] = space.failures();
    }

    /** The address spaces were released: forgets the loaded ones. */
    void releasedLoaded() {
        loadedPdps.clear();
        loadedPdpFailures = new long[0];
    }

    /**
     * Whether guest RAM an address space of this workload used was unmapped since the workload pinned it. Reading
     * changes nothing, so every workload sharing an address space sees it.
     */
    boolean ramUnmapped() {
        if (mm != null && mm.failures() != mmFailures) {
            return true;
        }
        for (int i = 0; i < loadedPdps.size(); i++) {
            if (loadedPdps.get(i).failures() != loadedPdpFailures[i]) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return engine + " context " + descriptor.contextId() + " [0x" + Integer.toHexString(head) + ", 0x"
                + Integer.toHexString(tail) + ") of ring 0x" + Long.toHexString(context.ringStart());
    }
}
