package dev.jgvt.core.mmio;

import dev.jgvt.core.hw.Engine;

/**
 * Receives complete execlist submissions: the guest wrote the four dwords of an ELSP submission (element 1
 * upper, element 1 lower, element 0 upper, element 0 lower). Implemented by the execlist emulation; called
 * under the vGPU's lock. Must not throw for any guest value.
 */
@FunctionalInterface
public interface ElspListener {
    /** Engine {@code engine} got context descriptors {@code element0} (runs first) and {@code element1}. */
    void submitted(Engine engine, long element0, long element1);
}
