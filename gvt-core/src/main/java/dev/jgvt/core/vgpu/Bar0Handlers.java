package dev.jgvt.core.vgpu;

import dev.jgvt.core.display.DpMonitor;
import dev.jgvt.core.display.VirtualDisplay;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.irq.VirtualInterrupts;
import dev.jgvt.core.mmio.Behavior;
import dev.jgvt.core.mmio.DisplayHandlers;
import dev.jgvt.core.mmio.ElspListener;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.PvInfo;
import dev.jgvt.core.mmio.RegisterHandler;
import dev.jgvt.core.mmio.StandardHandlers;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/** The register file's side of the vGPU: its handlers bound to the vGPU's parts, and what a GDRST request resets. */
final class Bar0Handlers {
    /** GVT-g's engine-level full GT reset reloads the register file below this offset. */
    static final int GT_RESET_LIMIT = 0x44200;

    private Bar0Handlers() {}

    /** What a GDRST request resets in the register file: below {@link #GT_RESET_LIMIT}, or the named engines' rings. */
    static void resetEngines(MmioSpace mmio, int domainMask) {
        if ((domainMask & Gen9Registers.GDRST_FULL) != 0) {
            mmio.resetRange(0, GT_RESET_LIMIT);
            return;
        }
        for (Engine engine : Engine.GT2) {
            if ((domainMask & engine.resetDomain()) != 0) {
                mmio.resetRange(engine.mmioBase(), engine.mmioBase() + 0x800);
            }
        }
    }

    static void bind(MmioSpace mmio, int fenceCount, IntConsumer engineReset, ElspListener elsp, VirtualInterrupts irq,
            PvInfo pvInfo, VirtualDisplay display, DpMonitor monitor, Consumer<String> failsafe) {
        StandardHandlers.bind(mmio, fenceCount, engineReset, elsp);
        mmio.bind(Behavior.DP_AUX, DisplayHandlers.dpAux(mmio, VirtualDisplay.MONITOR_PORT, monitor));
        mmio.bind(Behavior.INTERRUPT, new RegisterHandler() {
            @Override
            public int read(int offset) {
                return irq.read(offset);
            }

            @Override
            public void write(int offset, int value) {
                irq.write(offset, value);
            }
        });
        mmio.bind(Behavior.PVINFO, pvInfo);
        mmio.bind(Behavior.RING_MODE, new RegisterHandler() {
            @Override
            public int read(int offset) {
                return mmio.get(offset);
            }

            @Override
            public void write(int offset, int value) {
                int merged = mmio.merge(offset, value);
                mmio.set(offset, merged);
                if ((merged & Gen9Registers.RING_MODE_RUN_LIST_ENABLE) != 0 && !pvInfo.notified()) {
                    // GVT-g: a guest that enables execlists without having read PVINFO is not PV-aware
                    failsafe.accept("execlists enabled at 0x" + Integer.toHexString(offset) + " without reading PVINFO");
                }
            }
        });
        mmio.bind(Behavior.PIPECONF, display.pipeconfHandler());
        mmio.bind(Behavior.PLANE_SURFACE, display.surfaceHandler());
        mmio.bind(Behavior.SCANLINE, display.scanlineHandler());
        mmio.bind(Behavior.FRAME_COUNTER, display.frameCounterHandler());
    }
}
