package dev.jgvt.core.vgpu;

/**
 * One region of the device as the VMM sees it (config space, BAR0, BAR2, OpRegion, EDID). Offsets and sizes are
 * checked by the {@link RegionTable} before a region is called; a region is called under the vGPU's lock and
 * never throws for anything a guest does.
 */
interface DeviceRegion {
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
