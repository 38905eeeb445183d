package dev.jgvt.core.vgpu;

import dev.jgvt.core.hw.GmRange;

/**
 * The host GPU's graphics-memory geometry, as configuration: total GGTT address space, the CPU-visible
 * aperture at its bottom (low GM), and the number of fence registers. The host keeps a reservation of each
 * (GVT-g's {@code HOST_LOW_GM_SIZE}, {@code HOST_HIGH_GM_SIZE}, {@code HOST_FENCE}); vGPUs are carved from
 * the rest.
 *
 * <p>Layout of the GGTT space: {@code [0, hostLow)} host low GM, {@code [hostLow, aperture)} guest low GM,
 * {@code [aperture, aperture + hostHigh)} host high GM, {@code [aperture + hostHigh, ggtt)} guest high GM.
 * Fences {@code [0, hostFences)} stay with the host.
 *
 * @param ggttSize bytes of GGTT address space (4 GiB on Gen9: 1 Mi entries)
 * @param apertureSize bytes of aperture (BAR2), the low part of the GGTT space
 * @param fenceCount fence registers of the GPU
 */
public record HostGeometry(long ggttSize, long apertureSize, int fenceCount) {
    public static final long MIB = 1L << 20;
    public static final long GIB = 1L << 30;
    /** Low GM (aperture) the host keeps. */
    public static final long HOST_LOW_GM = 128 * MIB;
    /** High GM (hidden) the host keeps. */
    public static final long HOST_HIGH_GM = 384 * MIB;
    /** Fence registers the host keeps. */
    public static final int HOST_FENCES = 4;
    /** Largest GGTT a Gen9 GPU has (1 Mi 8-byte entries: the 8 MiB GGTT window of BAR0). */
    public static final long MAX_GGTT = 4 * GIB;
    /** Gen9 has 32 fence registers. */
    public static final int MAX_FENCES = 32;

    public HostGeometry {
        if (ggttSize <= 0 || ggttSize > MAX_GGTT || (ggttSize & 0xFFFFF) != 0) {
            throw new IllegalArgumentException("GGTT size must be a multiple of 1 MiB in (0, 4 GiB]: " + ggttSize);
        }
        if (apertureSize <= 0 || apertureSize > ggttSize || (apertureSize & 0xFFFFF) != 0
                || Long.bitCount(apertureSize) != 1) {
            throw new IllegalArgumentException("aperture size must be a power of two of at least 1 MiB and at most the GGTT size ("
                    + ggttSize + "): " + apertureSize);
        }
        if (fenceCount < 0 || fenceCount > MAX_FENCES) {
            throw new IllegalArgumentException("fence count must be in [0, " + MAX_FENCES + "]: " + fenceCount);
        }
    }

    /** The default geometry: 4 GiB GGTT, 1 GiB aperture, 32 fences. */
    public static HostGeometry defaults() {
        return new HostGeometry(4 * GIB, GIB, MAX_FENCES);
    }

    /** Guest low GM: the aperture above the host's reservation (may be empty). */
    public GmRange guestLowGm() {
        long base = Math.min(HOST_LOW_GM, apertureSize);
        return new GmRange(base, apertureSize - base);
    }

    /** Guest high GM: the hidden range above the host's reservation (may be empty). */
    public GmRange guestHighGm() {
        long hidden = ggttSize - apertureSize;
        long base = apertureSize + Math.min(HOST_HIGH_GM, hidden);
        return new GmRange(base, ggttSize - base);
    }

    /** The first fence guests may have. */
    public int guestFenceBase() {
        return Math.min(HOST_FENCES, fenceCount);
    }

    /** How many fences guests may have in total. */
    public int guestFenceCount() {
        return fenceCount - guestFenceBase();
    }
}
