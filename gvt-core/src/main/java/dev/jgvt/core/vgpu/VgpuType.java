package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * A vGPU type (GVT-g's {@code GVTg_V5_*} on Gen9): how much low GM (aperture), high GM (hidden) and how many
 * fences each instance gets, its scheduling weight and its display resolution (which picks the EDID).
 *
 * @param name type name, {@code GVTg_V5_<nominal instances>}
 * @param lowGm bytes of aperture per instance
 * @param highGm bytes of hidden GM per instance
 * @param fences fence registers per instance
 * @param weight scheduling weight (16 / nominal instances)
 * @param resolution the largest mode the virtual monitor offers
 */
public record VgpuType(String name, long lowGm, long highGm, int fences, int weight, Resolution resolution) {
    /** Largest scheduling weight (GVT-g's {@code VGPU_MAX_WEIGHT}). */
    public static final int MAX_WEIGHT = 16;

    public VgpuType {
        requireNonNull(name, "name is null");
        requireNonNull(resolution, "resolution is null");
        if (lowGm <= 0 || highGm <= 0 || fences <= 0 || weight < 1 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("bad vGPU type " + name);
        }
    }

    /** The Gen9 catalogue, in GVT-g's order (smallest first). */
    public static final List<VgpuType> GEN9 = List.of(
            gen9(8, 64, 384, Resolution.XGA),
            gen9(4, 128, 512, Resolution.WUXGA),
            gen9(2, 256, 1024, Resolution.WUXGA),
            gen9(1, 512, 2048, Resolution.WUXGA));

    private static VgpuType gen9(int instances, long lowMib, long highMib, Resolution resolution) {
        return new VgpuType("GVTg_V5_" + instances, lowMib * HostGeometry.MIB, highMib * HostGeometry.MIB, 4,
                MAX_WEIGHT / instances, resolution);
    }

    /** The catalogue entry with this name. */
    public static Optional<VgpuType> byName(String name) {
        return GEN9.stream().filter(t -> t.name.equals(name)).findFirst();
    }

    /** GVT-g's description attribute text. */
    public String description() {
        return String.format("low_gm_size: %dMB%nhigh_gm_size: %dMB%nfence: %d%nresolution: %s%nweight: %d%n",
                lowGm / HostGeometry.MIB, highGm / HostGeometry.MIB, fences, resolution, weight);
    }

    /** A display resolution. */
    public record Resolution(int width, int height) {
        public static final Resolution XGA = new Resolution(1024, 768);
        public static final Resolution WUXGA = new Resolution(1920, 1200);

        public Resolution {
            if (width <= 0 || height <= 0) {
                throw new IllegalArgumentException("bad resolution " + width + "x" + height);
            }
        }

        @Override
        public String toString() {
            return width + "x" + height;
        }
    }
}
