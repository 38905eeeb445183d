package dev.jgvt.core.engine;

import dev.jgvt.core.gtt.GgttWindow;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.core.vgpu.Vgpu;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes each vGPU's GGTT window when the vGPU is created and finds it again at attach time. Live vGPUs'
 * partitions are disjoint, so the partition identifies the window.
 */
final class GgttWindows {
    private final Map<VgpuPartition, SwitchableGgttWindow> windows = new ConcurrentHashMap<>();

    /** The factory the vGPU manager calls for each new vGPU. */
    GgttWindow create(VgpuPartition partition) {
        SwitchableGgttWindow window = new SwitchableGgttWindow();
        windows.put(partition, window);
        return window;
    }

    SwitchableGgttWindow of(Vgpu vgpu) {
        SwitchableGgttWindow window = windows.get(vgpu.partition());
        if (window == null) {
            throw new IllegalStateException("vGPU " + vgpu.id() + " was not created by this engine's manager");
        }
        return window;
    }
}
