package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.display.EdidRegion;
import dev.jgvt.core.display.OpRegion;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.pci.ConfigSpace;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The vGPU's regions as a dispatch table: the {@link DeviceLayout} the plugin advertises and, by region index, the
 * {@link DeviceRegion} that serves it. Checks what a VMM can get wrong (unknown region, access size, offset outside
 * the region, a write to a read-only region) before anything reaches a region. Allocation-free per access.
 */
final class RegionTable {
    /** One row: the region's index, name, size, whether it is writable, its mmap areas, type and handler. */
    record Row(int index, String name, long size, boolean writable, List<DeviceLayout.Area> mmapAreas, int type,
            int subtype, DeviceRegion handler) {
        Row {
            requireNonNull(name, "name is null");
            requireNonNull(mmapAreas, "mmapAreas is null");
            requireNonNull(handler, "handler is null");
        }
    }

    private static final int OPREGION_TYPE = 0x80000000 | 0x8086;
    private static final int OPREGION_SUBTYPE = 1;
    private static final int GFX_TYPE = 1;
    private static final int EDID_SUBTYPE = 1;

    private final int vgpuId;
    private final DeviceLayout layout;
    private final DeviceLayout.Region[] regions;
    private final DeviceRegion[] handlers;
    /** Per index the region's size where it may be read / written, -1 where not: an access's one look-up. */
    private final long[] readable;
    private final long[] writable;

    RegionTable(int vgpuId, int vendorId, int deviceId, List<Row> rows, List<DeviceLayout.Irq> irqs) {
        this.vgpuId = vgpuId;
        int slots = rows.stream().mapToInt(Row::index).max().orElse(-1) + 1;
        this.regions = new DeviceLayout.Region[slots];
        this.handlers = new DeviceRegion[slots];
        this.readable = new long[slots];
        this.writable = new long[slots];
        java.util.Arrays.fill(readable, -1);
        java.util.Arrays.fill(writable, -1);
        List<DeviceLayout.Region> advertised = new ArrayList<>();
        for (Row row : rows) {
            Set<DeviceLayout.Flag> flags = !row.writable() ? Set.of(DeviceLayout.Flag.READ)
                    : row.mmapAreas().isEmpty() ? Set.of(DeviceLayout.Flag.READ, DeviceLayout.Flag.WRITE)
                    : Set.of(DeviceLayout.Flag.READ, DeviceLayout.Flag.WRITE, DeviceLayout.Flag.MMAP);
            regions[row.index()] = new DeviceLayout.Region(row.index(), row.name(), row.size(), flags, row.mmapAreas(),
                    row.type(), row.subtype());
            advertised.add(regions[row.index()]);
            handlers[row.index()] = row.handler();
            readable[row.index()] = row.size();
            writable[row.index()] = row.writable() ? row.size() : -1;
        }
        this.layout = new DeviceLayout(vendorId, deviceId, advertised, irqs);
    }

    /**
     * The Gen9 vGPU's regions: config (7), BAR0 (0, trapped), BAR2 (2, aperture-sized; the vGPU's slice a sparse
     * mmap area), the expansion ROM (6, read-only, holding the VBT), OpRegion (9, read-only, Intel vendor type
     * subtype 1), EDID (10, GFX type subtype 1); INTx and MSI.
     */
    static RegionTable gen9(int vgpuId, long apertureSize, GmRange slice, ConfigSpace config, DeviceRegion bar0,
            DeviceRegion aperture, DeviceRegion opRegion, EdidRegion edid, byte[] rom) {
        return new RegionTable(vgpuId, Vgpu.VENDOR_ID, Vgpu.DEVICE_ID, List.of(
                new Row(DeviceLayout.CONFIG, "config", ConfigSpace.SIZE, true, List.of(), 0, 0, new DeviceRegion() {
                    @Override
                    public long read(long offset, int size) {
                        return config.read((int) offset, size);
                    }

                    @Override
                    public void write(long offset, int size, long value) {
                        config.write((int) offset, size, value);
                    }
                }),
                new Row(DeviceLayout.BAR0, "bar0", MmioSpace.BAR0_SIZE, true, List.of(), 0, 0, bar0),
                new Row(DeviceLayout.BAR2, "bar2", apertureSize, true,
                        List.of(new DeviceLayout.Area(slice.base(), slice.size())), 0, 0, aperture),
                new Row(Vgpu.ROM_REGION, "rom", rom.length, false, List.of(), 0, 0, new DeviceRegion() {
                    @Override
                    public long read(long offset, int size) {
                        long v = 0;
                        for (int i = size - 1; i >= 0; i--) {
                            v = (v << 8) | (rom[(int) offset + i] & 0xFF);
                        }
                        return v;
                    }

                    @Override
                    public void write(long offset, int size, long value) {
                        throw new IllegalStateException("the ROM is read-only; the region table refuses writes");
                    }
                }),
                new Row(Vgpu.OPREGION_REGION, "opregion", OpRegion.SIZE, false, List.of(), OPREGION_TYPE,
                        OPREGION_SUBTYPE, opRegion),
                new Row(Vgpu.EDID_REGION, "edid", EdidRegion.SIZE, true, List.of(), GFX_TYPE, EDID_SUBTYPE,
                        new DeviceRegion() {
                            @Override
                            public long read(long offset, int size) {
                                return edid.read(offset, size);
                            }

                            @Override
                            public void write(long offset, int size, long value) {
                                edid.write(offset, size, value);
                            }
                        })),
                List.of(new DeviceLayout.Irq(DeviceLayout.IRQ_INTX, 1), new DeviceLayout.Irq(DeviceLayout.IRQ_MSI, 1)));
    }

    DeviceLayout layout() {
        return layout;
    }

    /** The handler of an access the VMM may make; throws the VMM's error otherwise. */
    DeviceRegion forRead(int region, long offset, int size) {
        if (fits(readable, region, offset, size)) {
            return handlers[region];
        }
        return handlers[check(region, offset, size).index()];
    }

    /** As {@link #forRead}, and the region must be writable. */
    DeviceRegion forWrite(int region, long offset, int size) {
        if (fits(writable, region, offset, size)) {
            return handlers[region];
        }
        DeviceLayout.Region r = check(region, offset, size);
        if (!r.writable()) {
            throw new GvtException(ErrorCode.PERMISSION_DENIED, "region " + r.name() + " (" + region + ") is read-only");
        }
        return handlers[r.index()];
    }

    /** The common case in one look-up: a valid size, inside a region of {@code sizes} (-1 where none). */
    private static boolean fits(long[] sizes, int region, long offset, int size) {
        return (size == 4 || size == 8 || size == 1 || size == 2) && region >= 0 && region < sizes.length && offset >= 0
                && offset <= sizes[region] - size;
    }

    /** The VMM's error for an access {@link #fits} refused (or the region, for a read-only check). */
    private DeviceLayout.Region check(int region, long offset, int size) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "access size " + size + " is not 1, 2, 4 or 8");
        }
        DeviceLayout.Region r = region >= 0 && region < regions.length ? regions[region] : null;
        if (r == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "vGPU " + vgpuId + " has no region " + region);
        }
        if (offset < 0 || offset > r.size() - size) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "access of " + size + " bytes at 0x" + Long.toHexString(offset)
                    + " is outside region " + r.name() + " of 0x" + Long.toHexString(r.size()) + " bytes");
        }
        return r;
    }
}
