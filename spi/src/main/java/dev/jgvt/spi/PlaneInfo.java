package dev.jgvt.spi;

import static java.util.Objects.requireNonNull;

/**
 * What a display plane shows, as VFIO's {@code vfio_device_gfx_plane_info} describes it.
 *
 * @param type primary or cursor
 * @param drmFormat DRM fourcc of the pixel format (for example {@code XR24} = 0x34325258)
 * @param width width in pixels
 * @param height height in pixels
 * @param stride bytes per line
 * @param graphicsAddress the surface's address in the vGPU's graphics memory (GGTT space)
 * @param x position on the pipe, in pixels (cursor: hotspot-adjusted position)
 * @param y position on the pipe, in pixels
 */
public record PlaneInfo(
        PlaneType type, int drmFormat, int width, int height, int stride, long graphicsAddress, int x, int y) {
    public PlaneInfo {
        requireNonNull(type, "type is null");
        if (width <= 0 || height <= 0 || stride <= 0) {
            throw new IllegalArgumentException("bad plane geometry: " + width + "x" + height + " stride " + stride);
        }
    }

    /** The planes a display can be asked about. */
    public enum PlaneType {
        PRIMARY,
        CURSOR
    }
}
