package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One vGPU's workloads held between two host slices (ADR 0014), one per engine, and what the guest sees of them
 * meanwhile: a busy engine whose RING_HEAD and ACTHD show where the host engine stopped, and no completion in the
 * CSB or EXECLIST_STATUS (those change only when the workload completes, in {@link WorkloadCompleter}).
 *
 * <p>Locking and ownership: {@link #hold} runs under the vGPU's lock (it writes the vGPU's MMIO). {@link #take},
 * {@link #any} and {@link #has} are lock-free, because the {@link GpuScheduler} calls them under its own lock,
 * which must never be held while taking the vGPU's lock. Whoever takes a workload out (the scheduler to resume
 * it, a reset or detach to end it) owns it; at most one workload is held per engine.
 */
final class HeldWorkloads {
    private final MmioSpace mmio;
    private final AtomicReferenceArray<Workload> held = new AtomicReferenceArray<>(Engine.values().length);

    HeldWorkloads(MmioSpace mmio) {
        this.mmio = requireNonNull(mmio, "mmio is null");
    }

    /**
     * Under the vGPU's lock: holds {@code w}, which the host engine stopped at {@code w.state}, until it is resumed,
     * and shows the guest's engine where it is.
     */
    void hold(Workload w) {
        showPosition(w);
        held.set(w.engine.ordinal(), w);
    }

    /** Takes the workload waiting to be resumed on {@code engine}, or null (no lock needed). */
    Workload take(int engine) {
        return held.getAndSet(engine, null);
    }

    /** Whether a workload waits to be resumed on some engine (no lock needed). */
    boolean any() {
        for (int i = 0; i < held.length(); i++) {
            if (held.get(i) != null) {
                return true;
            }
        }
        return false;
    }

    /** Whether a workload waits to be resumed on {@code engine} (no lock needed). */
    boolean has(int engine) {
        return held.get(engine) != null;
    }

    /** RING_HEAD and ACTHD of the guest's engine show where the host engine is in {@code w}. */
    private void showPosition(Workload w) {
        int base = w.engine.mmioBase();
        int ringSize = w.context.ringSize();
        int head = (int) ((w.head + (long) w.state.ringCommand()) % ringSize);
        mmio.set(base + Gen9Registers.RING_HEAD, head);
        long active = w.state.activeAddress();
        if (active < 0 || !w.state.batchPpgtt()) {
            active = w.context.ringStart() + head; // in the ring, or a privileged batch's shadow copy: its ring command
        }
        mmio.set(base + Gen9Registers.RING_ACTHD, (int) active);
        mmio.set(base + Gen9Registers.RING_ACTHD_UDW, (int) (active >>> 32));
    }
}
