package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.InProcessGuest;
import java.util.Optional;

/**
 * A vGPU attached to a guest through a plugin: the vGPU, the plugin's binding for that guest, and the
 * plugin's id. Obtained from {@link Gvt#attach}; {@link Gvt#detach} undoes it.
 */
public final class AttachedVgpu {
    private final Vgpu vgpu;
    private final String pluginId;
    private final GuestBinding binding;
    private final VgpuWiring wiring;

    AttachedVgpu(Vgpu vgpu, String pluginId, VgpuWiring wiring) {
        this.vgpu = requireNonNull(vgpu, "vgpu is null");
        this.pluginId = requireNonNull(pluginId, "pluginId is null");
        this.wiring = requireNonNull(wiring, "wiring is null");
        this.binding = wiring.binding();
    }

    VgpuWiring wiring() {
        return wiring;
    }

    public Vgpu vgpu() {
        return vgpu;
    }

    public String pluginId() {
        return pluginId;
    }

    public GuestBinding binding() {
        return binding;
    }

    /** The guest side, for guests that live in this process (fake, emulated backends); empty otherwise. */
    public Optional<InProcessGuest> inProcessGuest() {
        return binding.inProcessGuest();
    }
}
