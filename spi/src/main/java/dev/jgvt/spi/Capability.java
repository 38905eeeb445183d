package dev.jgvt.spi;

/**
 * Optional abilities a plugin can declare in {@link HypervisorPlugin#capabilities()}. The core adapts
 * to what is absent and says so (for example, without {@link #PAGE_TRACKING} it cannot shadow PPGTTs
 * and refuses workloads that need one).
 */
public enum Capability {
    /**
     * {@link PageTracker} works: guest writes to tracked frames are trapped, committed to guest RAM and
     * then reported through {@link DeviceModel#trackedWrite}. Required for shadow PPGTT.
     */
    PAGE_TRACKING,
    /**
     * Pinned pages are stable host memory that a device can be pointed at (a VFIO pin or a memfd
     * mapping). Without it pinned pages are only valid for CPU copies, and the core copies instead of
     * mapping (Xen user space has no {@code dma_map_guest_page} equivalent).
     */
    GUEST_PAGE_DMA,
    /** {@link GuestPages#pin} accepts 512-page (2 MiB) runs that are contiguous in host memory. */
    HUGE_PAGE_PIN_2M,
    /** The plugin can let the guest map its aperture slice directly instead of trapping BAR2 accesses. */
    DIRECT_APERTURE_MAP,
    /** The plugin can report pages a device dirtied (migration support). */
    DIRTY_LOGGING,
    /** {@link InterruptSink#signalIntx()} is delivered (MSI is always required). */
    INTX
}
