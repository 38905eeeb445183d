package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.List;

/**
 * Carves vGPU partitions out of the host geometry: an aperture (low GM) range, a hidden (high GM) range
 * and a run of fences, each disjoint from every other live partition and from the host's reservation.
 * Not thread-safe; {@link VgpuManager} serialises.
 */
public final class ResourceAllocator {
    private static final long GM_GRANULE = 4096;

    private final HostGeometry geometry;
    private final RangeAllocator low;
    private final RangeAllocator high;
    private final RangeAllocator fences;

    public ResourceAllocator(HostGeometry geometry) {
        this.geometry = requireNonNull(geometry, "geometry is null");
        GmRange lowRange = geometry.guestLowGm();
        GmRange highRange = geometry.guestHighGm();
        this.low = new RangeAllocator(lowRange.base(), lowRange.end(), GM_GRANULE);
        this.high = new RangeAllocator(highRange.base(), highRange.end(), GM_GRANULE);
        this.fences = new RangeAllocator(geometry.guestFenceBase(), geometry.fenceCount(), 1);
    }

    public HostGeometry geometry() {
        return geometry;
    }

    /**
     * Allocates one partition of {@code type}'s sizes.
     *
     * @throws GvtException {@link ErrorCode#NO_SPACE} naming the exhausted resource; nothing is allocated then
     */
    public VgpuPartition allocate(VgpuType type) {
        requireNonNull(type, "type is null");
        long lowBase = low.allocate(type.lowGm());
        if (lowBase < 0) {
            throw noSpace(type, "aperture (low GM)", type.lowGm(), low.freeTotal());
        }
        long highBase = high.allocate(type.highGm());
        if (highBase < 0) {
            low.free(lowBase);
            throw noSpace(type, "hidden (high GM)", type.highGm(), high.freeTotal());
        }
        long fenceBase = fences.allocate(type.fences());
        if (fenceBase < 0) {
            low.free(lowBase);
            high.free(highBase);
            throw new GvtException(ErrorCode.NO_SPACE, "no room for " + type.name() + ": needs " + type.fences()
                    + " contiguous fences, " + fences.freeTotal() + " free");
        }
        return new VgpuPartition(new GmRange(lowBase, type.lowGm()), new GmRange(highBase, type.highGm()),
                (int) fenceBase, type.fences());
    }

    private static GvtException noSpace(VgpuType type, String what, long needed, long free) {
        return new GvtException(ErrorCode.NO_SPACE, "no room for " + type.name() + ": needs " + (needed >> 20)
                + " MiB of " + what + " in one piece, " + (free >> 20) + " MiB free");
    }

    /** Returns a partition obtained from {@link #allocate}. */
    public void free(VgpuPartition partition) {
        low.free(partition.aperture().base());
        high.free(partition.hidden().base());
        fences.free(partition.fenceBase());
    }

    /**
     * GVT-g's {@code available_instances}: min(free low GM / type low GM, free high GM / type high GM,
     * free fences / type fences), where free = guest total − allocated to live vGPUs.
     */
    public long availableInstances(VgpuType type) {
        return Math.min(Math.min(low.freeTotal() / type.lowGm(), high.freeTotal() / type.highGm()),
                fences.freeTotal() / type.fences());
    }

    /**
     * The types this host offers: those whose aperture share fits at least once into the guest low GM
     * (GVT-g's rule: {@code low_avail / low_gm_size == 0} ends the list).
     */
    public List<VgpuType> offeredTypes() {
        long lowTotal = low.capacity();
        return VgpuType.GEN9.stream().filter(t -> lowTotal / t.lowGm() > 0).toList();
    }
}
