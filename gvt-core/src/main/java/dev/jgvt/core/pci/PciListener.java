package dev.jgvt.core.pci;

/**
 * What the guest's config-space writes mean for the rest of the vGPU: where BAR0 is trapped and where the
 * aperture slice is mapped. GVT-g's {@code set_trap_area} / {@code map_gfn_to_mfn} moments. Called under the
 * vGPU's lock; must not throw.
 */
public interface PciListener {
    /** BAR0 is (or is no longer, {@code trapped == false}) decoded at guest physical {@code base}. */
    default void bar0Trap(long base, long size, boolean trapped) {}

    /**
     * The vGPU's aperture slice is (or is no longer) visible at guest physical {@code gpa}, {@code size}
     * bytes: first guest frame = (BAR2 base + aperture offset) >> 12.
     */
    default void apertureMap(long gpa, long size, boolean mapped) {}

    /** The guest wrote ASLS (0xFC): its OpRegion copy is at guest physical {@code gpa}. */
    default void opRegionAddress(long gpa) {}

    /** The guest wrote SWSCI (0xE8) with the SCI trigger set; the device answers through the OpRegion. */
    default void swsci(int value) {}
}
