package dev.jgvt.spi;

/**
 * Optional abilities a plugin can declare in {@link HypervisorPlugin#capabilities()}. The core adapts
 * to what is absent (for example, without {@link #PAGE_TRACKING} it re-reads every guest page-table page
 * before each use instead of trapping writes to them).
 */
public enum Capability {
    /**
     * {@link PageTracker} works: guest writes to tracked frames are trapped, committed to guest RAM and
     * then reported through {@link DeviceModel#trackedWrite}. Shadow PPGTTs then follow guest page-table
     * writes as they happen; without it the core compares every shadowed table with guest memory before
     * each use, which is correct but costs a read of every table page per submission.
     */
    PAGE_TRACKING,
    /**
     * Pinned pages are stable host memory that a device can be pointed at (a VFIO pin or a memfd
     * mapping). Without it pinned pages are only valid for CPU access (Xen user space has no
     * {@code dma_map_guest_page} equivalent): enough for the software GPU, which reads host memory; a
     * physical GPU would need the core to copy such pages into host-owned memory, which it does not do yet.
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
