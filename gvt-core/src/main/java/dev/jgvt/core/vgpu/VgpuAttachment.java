package dev.jgvt.core.vgpu;

import dev.jgvt.core.gtt.GgttWindow;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.mmio.ElspListener;
import dev.jgvt.core.mmio.PvNotificationListener;
import dev.jgvt.spi.GuestBinding;
import java.lang.foreign.MemorySegment;

/**
 * Everything a vGPU is connected to while it is attached to a guest, installed in one step by
 * {@link Vgpu#attach} and replaced by {@link #DETACHED} in one step by {@link Vgpu#detach}: the plugin's binding
 * (guest memory, interrupts), the memory side (the GGTT window's shadow, tracked writes, DMA unmaps, PPGTT
 * announcements) and execution (ELSP submissions, quiescing, resets). The vGPU calls it under its lock, from trap
 * threads and its own reset paths; nothing here may throw for anything a guest does.
 *
 * <p>There are no setters: an attachment is built whole from the binding before the vGPU is reachable with it.
 */
public interface VgpuAttachment extends ElspListener, ResetListener, PvNotificationListener {
    /** The detached state: no guest, a GGTT window that reads 0 and drops writes, nothing else connected. */
    VgpuAttachment DETACHED = new Detached();

    /** The plugin's binding for the guest, or null when detached. */
    GuestBinding binding();

    /** Where BAR0's GGTT window goes (the vGPU's GGTT shadow when attached). */
    GgttWindow ggtt();

    /** A guest CPU write to a tracked frame, already committed by the plugin (see the SPI's {@code trackedWrite}). */
    void trackedWrite(long gpa, MemorySegment bytes);

    /** The VMM unmapped {@code [iova, iova + length)}; the vGPU has quiesced execution already. */
    void dmaUnmapped(long iova, long length);

    /**
     * Waits until no workload of this vGPU executes on a host engine, so nothing walks tables or pages that a reset
     * or an unmap is about to take away. Called under the vGPU's lock.
     */
    void quiesce();

    /**
     * After a BAR write, on the trapping thread, with the vGPU's lock released: runs what the write started on this
     * thread (an ELSP write's inline workload, ADR 0015), so that the host engine never executes under the vGPU's
     * lock. Nothing to do by default.
     */
    default void afterWrite() {}

    /** The detached implementation: every notification is dropped. Tests extend it to attach a bare binding. */
    class Detached implements VgpuAttachment {
        private static final GgttWindow NO_GGTT = new GgttWindow() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {}

            @Override
            public long gmaToGpa(long gma) {
                return -1;
            }
        };

        Detached() {}

        @Override
        public GuestBinding binding() {
            return null;
        }

        @Override
        public GgttWindow ggtt() {
            return NO_GGTT;
        }

        @Override
        public void submitted(Engine engine, long element0, long element1) {}

        @Override
        public void trackedWrite(long gpa, MemorySegment bytes) {}

        @Override
        public void dmaUnmapped(long iova, long length) {}

        @Override
        public void quiesce() {}
    }
}
