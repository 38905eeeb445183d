package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.exec.Execlists;
import dev.jgvt.core.gtt.GgttWindow;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.vgpu.VgpuAttachment;
import dev.jgvt.spi.GuestBinding;
import java.lang.foreign.MemorySegment;

/**
 * What an attached vGPU is connected to, built whole from the plugin's binding before it is installed: the binding
 * (guest memory, interrupts), the memory side ({@link VgpuMemory}: GGTT shadow, pin cache, page tracking, shadow
 * PPGTTs) and execution ({@link Execlists}). Primitive paths throughout: tracked writes and DMA unmaps box nothing.
 */
final class VgpuWiring implements VgpuAttachment {
    private final GuestBinding binding;
    private final VgpuMemory memory;
    private final Execlists execlists;

    VgpuWiring(GuestBinding binding, VgpuMemory memory, Execlists execlists) {
        this.binding = requireNonNull(binding, "binding is null");
        this.memory = requireNonNull(memory, "memory is null");
        this.execlists = requireNonNull(execlists, "execlists is null");
    }

    VgpuMemory memory() {
        return memory;
    }

    Execlists execlists() {
        return execlists;
    }

    @Override
    public GuestBinding binding() {
        return binding;
    }

    @Override
    public GgttWindow ggtt() {
        return memory.ggtt();
    }

    @Override
    public void submitted(Engine engine, long element0, long element1) {
        execlists.submitted(engine, element0, element1);
    }

    @Override
    public void afterWrite() {
        execlists.afterWrite();
    }

    @Override
    public void trackedWrite(long gpa, MemorySegment bytes) {
        memory.tracking().dispatch(gpa, bytes);
    }

    @Override
    public void dmaUnmapped(long iova, long length) {
        memory.pins().dmaUnmapped(iova, length);
    }

    @Override
    public void quiesce() {
        execlists.quiesce();
    }

    @Override
    public void ppgtt(boolean created, int levels, long[] pdps) {
        memory.announced(created, levels, pdps);
    }

    @Override
    public void deviceReset() {
        memory.deviceReset();
        execlists.deviceReset();
    }

    @Override
    public void engineReset(int domainMask) {
        execlists.engineReset(domainMask);
    }

    /** Stops execution, then frees the memory side (after the vGPU was detached from it). */
    void close() {
        try {
            execlists.close();
        } finally {
            memory.close();
        }
    }
}
