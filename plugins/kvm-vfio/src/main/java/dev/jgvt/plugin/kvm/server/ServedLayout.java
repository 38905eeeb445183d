package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionCap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TypeCap;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.ArrayList;
import java.util.List;

/**
 * The device as this server offers it over vfio-user, derived once from the {@link DeviceLayout}: the one
 * place that says what DEVICE_GET_INFO, GET_REGION_INFO and GET_IRQ_INFO answer and which region accesses are
 * allowed. Every region is trapped: a layout's mmap areas (the vGPU's aperture slice in BAR2) are served
 * without the MMAP flag, without a SPARSE_MMAP capability and at offset 0, because this transport has no fd
 * that could back them honestly (decision 0011); REGION_READ/WRITE serve the whole region instead.
 */
final class ServedLayout {
    /** VFIO's PCI numbering: 9 fixed regions, 5 irq indices. */
    static final int PCI_NUM_REGIONS = 9;
    static final int PCI_NUM_IRQS = 5;
    static final int DEVICE_FLAGS = 0x3; // RESET | PCI
    static final int IRQ_INFO_EVENTFD = 1;
    static final int IRQ_INFO_NORESIZE = 8;

    /** One region as served: what GET_REGION_INFO reports and what accesses may do. */
    record Served(DeviceLayout.Region region, int flags, long offset, List<RegionCap> caps) {
        boolean readable() {
            return (flags & RegionInfo.FLAG_READ) != 0;
        }

        boolean writable() {
            return (flags & RegionInfo.FLAG_WRITE) != 0;
        }
    }

    private final Served[] regions;
    private final int[] irqCounts = new int[PCI_NUM_IRQS];

    ServedLayout(DeviceLayout layout) {
        requireNonNull(layout, "layout is null");
        int n = PCI_NUM_REGIONS;
        for (DeviceLayout.Region r : layout.regions()) {
            n = Math.max(n, r.index() + 1);
        }
        regions = new Served[n];
        for (DeviceLayout.Region r : layout.regions()) {
            int flags = (r.readable() ? RegionInfo.FLAG_READ : 0) | (r.writable() ? RegionInfo.FLAG_WRITE : 0);
            List<RegionCap> caps = new ArrayList<>();
            if (r.index() >= DeviceLayout.FIRST_DEVICE_REGION) {
                caps.add(new TypeCap(1, r.type(), r.subtype()));
            }
            regions[r.index()] = new Served(r, flags, offsetOf(r), List.copyOf(caps));
        }
        for (DeviceLayout.Irq irq : layout.irqs()) {
            if (irq.index() < PCI_NUM_IRQS) {
                irqCounts[irq.index()] = irq.count();
            }
        }
    }

    /** The mmap offset of a region: 0 for all, as libvfio-user reports regions it does not let map. */
    static long offsetOf(DeviceLayout.Region region) {
        return 0;
    }

    int numRegions() {
        return regions.length;
    }

    /** The served region at {@code index}, or null if there is none. */
    Served region(int index) {
        return index >= 0 && index < regions.length ? regions[index] : null;
    }

    DeviceInfo deviceInfo(DeviceInfo request) {
        if (Integer.toUnsignedLong(request.argsz()) < DeviceInfo.LENGTH) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "DEVICE_GET_INFO argsz " + request.argsz());
        }
        return new DeviceInfo(DeviceInfo.LENGTH, DEVICE_FLAGS, numRegions(), PCI_NUM_IRQS);
    }

    /** GET_REGION_INFO, with the argsz-grow protocol: too small an argsz gets the needed size and no caps. */
    RegionInfo regionInfo(RegionInfo request) {
        int index = request.index();
        if (index < 0 || index >= numRegions()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "GET_REGION_INFO index " + Integer.toUnsignedString(index)
                    + ": the device has " + numRegions() + " regions");
        }
        Served s = regions[index];
        if (s == null) {
            return new RegionInfo(RegionInfo.LENGTH, 0, index, 0, 0, List.of());
        }
        int capsFlag = s.caps().isEmpty() ? 0 : RegionInfo.FLAG_CAPS;
        int needed = new RegionInfo(0, s.flags() | capsFlag, index, s.region().size(), s.offset(), s.caps()).length();
        if (Integer.toUnsignedLong(request.argsz()) < needed) {
            return new RegionInfo(needed, s.flags(), index, s.region().size(), s.offset(), List.of());
        }
        return new RegionInfo(needed, s.flags() | capsFlag, index, s.region().size(), s.offset(), s.caps());
    }

    IrqInfo irqInfo(IrqInfo request) {
        int index = request.index();
        if (index < 0 || index >= PCI_NUM_IRQS) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "GET_IRQ_INFO index " + Integer.toUnsignedString(index)
                    + ": the device has " + PCI_NUM_IRQS + " irq indices");
        }
        int count = irqCounts[index];
        int flags = count == 0 ? 0 : IRQ_INFO_EVENTFD | (index == DeviceLayout.IRQ_INTX ? 0 : IRQ_INFO_NORESIZE);
        return new IrqInfo(IrqInfo.LENGTH, flags, index, count);
    }
}
