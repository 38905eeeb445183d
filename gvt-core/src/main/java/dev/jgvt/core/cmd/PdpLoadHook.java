package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;

/**
 * Called when an MI_LOAD_REGISTER_IMM loads page-directory pointers (ring base + 0x270..0x28C): the shadow-PPGTT
 * code finds or builds the shadow page tables for the guest roots and returns the shadow roots that replace the
 * guest values in the shadow command (gvt-g.md §3.7).
 */
public interface PdpLoadHook {
    /**
     * @param engine the engine whose PDP registers are loaded
     * @param guestRoots PDP0..PDP3 as (UDW &lt;&lt; 32 | LDW); dwords the LRI did not write are 0
     * @param writtenDwords bit {@code 2 * i} = PDPi LDW written, bit {@code 2 * i + 1} = PDPi UDW written
     * @param shadowRoots filled with the values to load instead (same layout)
     * @return false to reject the command (for example roots that are not page tables of this guest)
     */
    boolean shadowRoots(Engine engine, long[] guestRoots, int writtenDwords, long[] shadowRoots);

    /** Refuses every PDP load (no shadow PPGTT attached). */
    PdpLoadHook REJECT = (engine, guestRoots, writtenDwords, shadowRoots) -> false;
}
