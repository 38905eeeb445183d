package dev.jgvt.spi;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * One vGPU as a device, implemented by the core; the plugin exposes it to its VMM. The view is VFIO's:
 * numbered regions (config space, BARs, device-specific regions) and interrupts, described by
 * {@link #layout()}.
 *
 * <p><b>Threading.</b> Any method may be called from any thread. The core serialises calls per vGPU and
 * handles each on the calling thread (no hand-off), so a plugin should call from the thread that took
 * the trap. Calls never block on guest activity.
 *
 * <p><b>Errors.</b> Nothing a guest does makes these methods throw: a bad guest access reads as zero, is
 * dropped, or fails the vGPU (which the guest then sees as a hung device), and is logged by the core.
 * They throw {@link GvtException} only for a caller's (the plugin's or VMM's) mistakes, listed per method.
 */
public interface DeviceModel {
    /** The regions and interrupts of this device; constant for the device's life. */
    DeviceLayout layout();

    /**
     * A read of {@code size} bytes at {@code offset} in region {@code region}, as a guest or VMM access.
     *
     * @return the value, zero-extended, little-endian as the device sees it
     * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} for an unknown region index or a size other
     *     than 1, 2, 4 or 8; {@link ErrorCode#OUT_OF_RANGE} if the access does not lie inside the region
     */
    long read(int region, long offset, int size);

    /**
     * A write of the low {@code size} bytes of {@code value} at {@code offset} in region {@code region}.
     * An 8-byte write to the GGTT window of BAR0 is one GGTT entry; elsewhere the core splits it.
     *
     * @throws GvtException as {@link #read}; also {@link ErrorCode#PERMISSION_DENIED} for a write to a
     *     region the layout declares read-only
     */
    void write(int region, long offset, int size, long value);

    /**
     * The guest wrote {@code bytes} at {@code gpa} in a frame tracked through {@link PageTracker}.
     * <b>Contract 1:</b> the write is already committed to guest RAM when this is called. The segment is
     * valid only during the call. Called on the trapping thread; may re-read guest memory.
     */
    void trackedWrite(long gpa, MemorySegment bytes);

    /**
     * Guest RAM {@code [iova, iova + length)} is about to disappear (the VMM unmapped DMA, a memslot is
     * removed, a domain shrinks). <b>Contract 2:</b> before returning, the core has closed every
     * {@link PinnedPages} overlapping the range and stopped using it; work in flight that referenced it is
     * failed. The plugin verifies afterwards that no pin remains and fails loudly otherwise.
     */
    void dmaUnmapped(long iova, long length);

    /** A device-level reset requested by the VMM (VFIO_DEVICE_RESET): everything back to power-on state. */
    void reset();

    /**
     * The current display plane of the given type, if the guest has programmed and enabled one.
     * Never throws for a guest's bad programming: an unusable plane is reported as empty.
     */
    Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type);
}
