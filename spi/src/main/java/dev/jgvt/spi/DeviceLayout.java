package dev.jgvt.spi;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The VMM-facing shape of a device: PCI identity, regions and interrupts, as a VFIO device describes
 * itself. Region and interrupt indices follow VFIO's PCI numbering.
 *
 * @param vendorId PCI vendor id
 * @param deviceId PCI device id
 * @param regions regions, each index at most once
 * @param irqs interrupt sources, each index at most once
 */
public record DeviceLayout(int vendorId, int deviceId, List<Region> regions, List<Irq> irqs) {
    /** VFIO region index of BAR0 (the MMIO register file and GGTT window). */
    public static final int BAR0 = 0;
    /** VFIO region index of BAR2 (the aperture). */
    public static final int BAR2 = 2;
    /** VFIO region index of PCI config space. */
    public static final int CONFIG = 7;
    /** First index of device-specific regions (VFIO numbers them after VGA). */
    public static final int FIRST_DEVICE_REGION = 9;
    /** VFIO irq index of INTx. */
    public static final int IRQ_INTX = 0;
    /** VFIO irq index of MSI. */
    public static final int IRQ_MSI = 1;

    public DeviceLayout {
        regions = List.copyOf(requireNonNull(regions, "regions is null"));
        irqs = List.copyOf(requireNonNull(irqs, "irqs is null"));
        if (regions.stream().map(Region::index).distinct().count() != regions.size()) {
            throw new IllegalArgumentException("duplicate region index in " + regions);
        }
        if (irqs.stream().map(Irq::index).distinct().count() != irqs.size()) {
            throw new IllegalArgumentException("duplicate irq index in " + irqs);
        }
    }

    /** The region with this index, if the device has one. */
    public Optional<Region> region(int index) {
        return regions.stream().filter(r -> r.index() == index).findFirst();
    }

    /**
     * One region.
     *
     * @param index VFIO region index
     * @param name a short name for messages ("config", "bar0", "opregion")
     * @param size size in bytes
     * @param flags what the VMM may do with it
     * @param mmapAreas the parts a VMM may map directly (empty: trap every access)
     * @param type for device-specific regions, VFIO's region type (for example
     *     {@code 0x80000000 | 0x8086} for Intel vendor regions, 1 for graphics); 0 for standard regions
     * @param subtype VFIO's region subtype (1 = IGD OpRegion for Intel, 1 = EDID for graphics); 0 otherwise
     */
    public record Region(
            int index, String name, long size, Set<Flag> flags, List<Area> mmapAreas, int type, int subtype) {
        public Region {
            requireNonNull(name, "name is null");
            flags = Set.copyOf(requireNonNull(flags, "flags is null"));
            mmapAreas = List.copyOf(requireNonNull(mmapAreas, "mmapAreas is null"));
            if (index < 0 || size < 0) {
                throw new IllegalArgumentException("bad region " + name + ": index " + index + ", size " + size);
            }
            for (Area area : mmapAreas) {
                if (area.offset() + area.size() > size) {
                    throw new IllegalArgumentException("mmap area " + area + " exceeds region " + name + " of " + size);
                }
            }
        }

        public boolean readable() {
            return flags.contains(Flag.READ);
        }

        public boolean writable() {
            return flags.contains(Flag.WRITE);
        }
    }

    /** Region flags, as VFIO's {@code VFIO_REGION_INFO_FLAG_*}. */
    public enum Flag {
        READ,
        WRITE,
        MMAP
    }

    /** A directly mappable part of a region (VFIO's sparse-mmap area). */
    public record Area(long offset, long size) {
        public Area {
            if (offset < 0 || size <= 0) {
                throw new IllegalArgumentException("bad area: offset " + offset + ", size " + size);
            }
        }
    }

    /**
     * One interrupt source.
     *
     * @param index VFIO irq index ({@link #IRQ_INTX}, {@link #IRQ_MSI})
     * @param count number of vectors
     */
    public record Irq(int index, int count) {
        public Irq {
            if (index < 0 || count < 0) {
                throw new IllegalArgumentException("bad irq: index " + index + ", count " + count);
            }
        }
    }
}
