package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.PlaneInfo;

/**
 * The pixels of a display plane as the host GPU would scan them out: each line resolved through the
 * vGPU's <em>host</em> GGTT entries to the guest pages pinned behind them (as GVT-g's dmabuf export
 * does), never through the guest's own view. Pages whose host entry is not a live pin read as black.
 *
 * @param plane what the guest programmed
 * @param pixels {@code width * height} XRGB8888 values, row-major (the X byte is 0)
 * @param unmappedPages pages of the surface that had no pinned page behind their host entry
 */
public record PlaneCapture(PlaneInfo plane, int[] pixels, int unmappedPages) {
    /** DRM fourcc 'XR24': little-endian 32-bit x:R:G:B. */
    public static final int DRM_XRGB8888 = 0x34325258;
    /** DRM fourcc 'XB24': little-endian 32-bit x:B:G:R. */
    public static final int DRM_XBGR8888 = 0x34324258;

    public PlaneCapture {
        requireNonNull(plane, "plane is null");
        requireNonNull(pixels, "pixels is null");
        if (pixels.length != plane.width() * plane.height()) {
            throw new IllegalArgumentException("pixels do not match the plane's " + plane.width() + "x" + plane.height());
        }
    }

    /** Pixel (x, y) as 0xRRGGBB. */
    public int pixel(int x, int y) {
        return pixels[y * plane.width() + x];
    }
}
