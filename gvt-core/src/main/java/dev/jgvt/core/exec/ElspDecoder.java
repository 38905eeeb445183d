package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.gtt.GgttShadow;
import dev.jgvt.core.gtt.PpgttRoot;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;

/**
 * Stage 1 of submission, on the trap thread under the vGPU's lock: an ELSP write becomes workloads. Checks the
 * descriptors (valid, PPGTT, a supported addressing mode), reads each context's register state through the vGPU's
 * GGTT (gvt-g.md §7.3) and remembers, per context, the tail of its newest workload not completed yet: a context
 * resubmitted before its previous workload completed continues from there, not from the head in its image.
 */
final class ElspDecoder {
    private final Execlists owner;
    private final MmioSpace mmio;
    private final GuestMemory memory;
    private final GgttShadow ggtt;
    private final MemorySegment contextPage;
    /** {@link #contextPage} as ints, for {@link RingContext#decode(MemorySegment, int[])}. */
    private final int[] contextDwords = new int[RingContext.BYTES / 4];
    /** Per engine: context id → tail of its newest workload not completed yet (continuation head). */
    private final ContextTails[] pendingTails = new ContextTails[Engine.values().length];

    ElspDecoder(Execlists owner, MmioSpace mmio, GuestMemory memory, GgttShadow ggtt, MemorySegment contextPage) {
        this.owner = requireNonNull(owner, "owner is null");
        this.mmio = requireNonNull(mmio, "mmio is null");
        this.memory = requireNonNull(memory, "memory is null");
        this.ggtt = requireNonNull(ggtt, "ggtt is null");
        this.contextPage = requireNonNull(contextPage, "contextPage is null");
        for (Engine e : Engine.values()) {
            pendingTails[e.ordinal()] = new ContextTails();
        }
    }

    /**
     * Decodes an ELSP submission of {@code engine} into its workloads (one per valid element, element 0 first);
     * null after a guest error, which has been reported (the vGPU is in failsafe).
     */
    Workload[] decode(Engine engine, long element0, long element1) {
        if ((mmio.get(engine.mmioBase() + Gen9Registers.RING_MODE) & Gen9Registers.RING_MODE_RUN_LIST_ENABLE) == 0) {
            owner.guestError(engine, "ELSP written while execlists are disabled in RING_MODE");
            return null;
        }
        ContextDescriptor d0 = new ContextDescriptor(element0);
        ContextDescriptor d1 = new ContextDescriptor(element1);
        if (!d0.valid()) {
            owner.guestError(engine, "ELSP element 0 is not valid: " + d0);
            return null;
        }
        ContextDescriptor[] elements = d1.valid() ? new ContextDescriptor[] {d0, d1} : new ContextDescriptor[] {d0};
        int[] ids = new int[elements.length];
        for (int i = 0; i < elements.length; i++) {
            if (!elements[i].ppgtt()) {
                owner.guestError(engine, "unexpected GGTT-only ELSP submission: " + elements[i]);
                return null;
            }
            ids[i] = elements[i].contextId();
        }
        VirtualExeclist.Slot slot = new VirtualExeclist.Slot(ids);
        Workload[] created = new Workload[elements.length];
        for (int i = 0; i < elements.length; i++) {
            created[i] = createWorkload(engine, elements[i], slot, i == 0);
            if (created[i] == null) {
                return null;
            }
        }
        return created;
    }

    /** GVT-g's workload creation (gvt-g.md §7.3); null after a guest error. */
    private Workload createWorkload(Engine engine, ContextDescriptor d, VirtualExeclist.Slot slot,
            boolean first) {
        int mode = d.addressingMode();
        if (mode != ContextDescriptor.LEGACY_64 && mode != ContextDescriptor.LEGACY_32) {
            owner.guestError(engine, "unsupported addressing mode " + mode + " in " + d);
            return null;
        }
        long gpa = ggtt.gmaToGpa(d.lrca() + 4096);
        if (gpa < 0) {
            owner.guestError(engine, String.format("the context image at GM 0x%x is not mapped in the vGPU's GGTT (%s)",
                    d.lrca() + 4096, d));
            return null;
        }
        try {
            memory.read(gpa, contextPage);
        } catch (GvtException e) {
            owner.guestError(engine, "the context image of " + d + " is not guest RAM: " + e.getMessage());
            return null;
        }
        RingContext rc = RingContext.decode(contextPage, contextDwords);
        int size = rc.ringSize();
        int tail = rc.tailOffset();
        int continuing = pendingTails[engine.ordinal()].get(d.contextId());
        int head = continuing != ContextTails.NONE ? continuing : rc.headOffset();
        if (head >= size || tail >= size) {
            owner.guestError(engine, "ring head 0x" + Integer.toHexString(head) + " or tail 0x" + Integer.toHexString(tail)
                    + " outside the ring of 0x" + Integer.toHexString(size) + " bytes (" + d + ")");
            return null;
        }
        PpgttRoot root;
        try {
            root = mode == ContextDescriptor.LEGACY_64 ? PpgttRoot.l4(rc.pdp(0))
                    : PpgttRoot.l3(rc.pdp(0), rc.pdp(1), rc.pdp(2), rc.pdp(3));
        } catch (IllegalArgumentException e) {
            owner.guestError(engine, "unusable PPGTT root in " + d + ": " + e.getMessage());
            return null;
        }
        pendingTails[engine.ordinal()].put(d.contextId(), tail);
        return new Workload(owner.scheduled(), engine, d, slot, first, gpa, rc, head, tail, root, owner.epoch(engine));
    }

    /** {@code w} completed: its context no longer continues from its tail unless a newer workload is pending. */
    void completed(Workload w) {
        ContextTails tails = pendingTails[w.engine.ordinal()];
        if (tails.get(w.descriptor.contextId()) == w.tail) {
            tails.remove(w.descriptor.contextId());
        }
    }

    /** The engine's queue was dropped (hang, reset): every context starts again from its image. */
    void forget(Engine engine) {
        pendingTails[engine.ordinal()].clear();
    }
}
