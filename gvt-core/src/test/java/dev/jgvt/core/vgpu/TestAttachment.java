package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.gtt.GgttWindow;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.mmio.ElspListener;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.UnshadowedGgttWindow;
import dev.jgvt.spi.GuestBinding;

/**
 * A device-model test's attachment: a bare binding, a GGTT window that stores entries as written (no shadow) and
 * is cleared by a device reset, and settable listeners for ELSP submissions and resets.
 */
final class TestAttachment extends VgpuAttachment.Detached {
    private final GuestBinding binding;
    private final UnshadowedGgttWindow ggtt = new UnshadowedGgttWindow(MmioSpace.GGTT_WINDOW_SIZE);
    ElspListener elsp = (engine, e0, e1) -> {};
    ResetListener resets = new ResetListener() {};

    TestAttachment(GuestBinding binding) {
        this.binding = requireNonNull(binding, "binding is null");
    }

    /** Attaches {@code vgpu} to {@code binding} and returns the attachment. */
    static TestAttachment attach(Vgpu vgpu, GuestBinding binding) {
        return vgpu.attach(device -> new TestAttachment(binding));
    }

    @Override
    public GuestBinding binding() {
        return binding;
    }

    @Override
    public GgttWindow ggtt() {
        return ggtt;
    }

    @Override
    public void submitted(Engine engine, long element0, long element1) {
        elsp.submitted(engine, element0, element1);
    }

    @Override
    public void deviceReset() {
        ggtt.clear();
        resets.deviceReset();
    }

    @Override
    public void engineReset(int domainMask) {
        resets.engineReset(domainMask);
    }
}
