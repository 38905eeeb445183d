package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.display.VblankClock;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The vGPUs of one host GPU: the type catalogue with available instances, creation (resources from the
 * {@link ResourceAllocator}, ids 1..7 as GVT-g's idr) and destruction. Thread-safe.
 */
public final class VgpuManager {
    /** GVT-g's {@code GVT_MAX_VGPU} is 8 with id 0 the idle vGPU: 7 guest vGPUs. */
    public static final int MAX_VGPUS = 7;

    private final ResourceAllocator allocator;
    private final VblankClock clock;
    private final TreeMap<Integer, Vgpu> vgpus = new TreeMap<>();

    public VgpuManager(HostGeometry geometry, VblankClock clock) {
        this.allocator = new ResourceAllocator(requireNonNull(geometry, "geometry is null"));
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** A manager with the real-time vblank clock. */
    public VgpuManager(HostGeometry geometry) {
        this(geometry, VblankClock.system());
    }

    public HostGeometry geometry() {
        return allocator.geometry();
    }

    /** A type this host offers and how many more instances fit now. */
    public record TypeAvailability(VgpuType type, long availableInstances) {}

    /** The offered types with GVT-g's available_instances for the current allocations. */
    public synchronized List<TypeAvailability> types() {
        return allocator.offeredTypes().stream()
                .map(t -> new TypeAvailability(t, allocator.availableInstances(t)))
                .toList();
    }

    /**
     * Creates a vGPU of the named type.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} for a type this host does not offer,
     *     {@link ErrorCode#NO_SPACE} when the resources or the 7 ids are exhausted
     */
    public synchronized Vgpu create(String typeName) {
        requireNonNull(typeName, "typeName is null");
        VgpuType type = allocator.offeredTypes().stream().filter(t -> t.name().equals(typeName)).findFirst()
                .orElseThrow(() -> new GvtException(ErrorCode.NOT_FOUND, "no vGPU type " + typeName + " on this host (offered: "
                        + allocator.offeredTypes().stream().map(VgpuType::name).toList() + ")"));
        int id = 1;
        while (vgpus.containsKey(id)) {
            id++;
        }
        if (id > MAX_VGPUS) {
            throw new GvtException(ErrorCode.NO_SPACE, "all " + MAX_VGPUS + " vGPU slots are in use");
        }
        VgpuPartition partition = allocator.allocate(type);
        try {
            Vgpu vgpu = new Vgpu(id, type, partition, allocator.geometry(), clock);
            vgpus.put(id, vgpu);
            return vgpu;
        } catch (RuntimeException e) {
            allocator.free(partition);
            throw e;
        }
    }

    /** The live vGPU with this id. */
    public synchronized Optional<Vgpu> get(int id) {
        return Optional.ofNullable(vgpus.get(id));
    }

    public synchronized List<Vgpu> list() {
        return List.copyOf(vgpus.values());
    }

    /**
     * Destroys a vGPU and returns its resources.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} for an unknown id, {@link ErrorCode#ILLEGAL_STATE} for
     *     an active vGPU (deactivate first)
     */
    public synchronized void destroy(int id) {
        Vgpu vgpu = vgpus.get(id);
        if (vgpu == null) {
            throw new GvtException(ErrorCode.NOT_FOUND, "no vGPU " + id);
        }
        vgpu.destroy();
        vgpus.remove(id);
        allocator.free(vgpu.partition());
    }
}
