package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.hw.GttEntry;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One vGPU's scratch pages: a zeroed data page (what GGTT entries and PPGTT leaves point at when the guest's
 * entry is not present or its frame cannot be used) and one scratch table per PPGTT level, built bottom-up:
 * the PT-level table is all not-present, each higher table has all 512 entries pointing at the next lower
 * scratch table (present, writable). A walk that reaches scratch faults at the PT level or reads the
 * vGPU's own zero page — never anyone else's memory.
 */
public final class GttScratch implements AutoCloseable {
    private static final ValueLayout.OfLong ENTRY = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final HostBuffer data;
    private final HostBuffer[] tables = new HostBuffer[5];

    public GttScratch(HostGpu gpu) {
        requireNonNull(gpu, "gpu is null");
        data = gpu.allocate(HostGpu.PAGE_SIZE, "scratch data page");
        try {
            for (int level = 1; level <= 4; level++) {
                tables[level] = gpu.allocate(HostGpu.PAGE_SIZE, "scratch table L" + level);
                if (level > 1) {
                    long e = tables[level - 1].deviceAddress() | GttEntry.PRESENT | GttEntry.WRITABLE;
                    for (int i = 0; i < GttEntry.ENTRIES; i++) {
                        tables[level].segment().setAtIndex(ENTRY, i, e);
                    }
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Device address of the zeroed data page. */
    public long dataPage() {
        return data.deviceAddress();
    }

    /** Device address of the scratch table of {@code level} (1 PT … 4 PML4). */
    public long table(int level) {
        return tables[level].deviceAddress();
    }

    /**
     * The shadow entry for a not-present guest entry in a table of {@code level}: not present at the PT level,
     * the next lower scratch table (present, writable) above it.
     */
    public long notPresentEntry(int level) {
        return level == 1 ? data.deviceAddress() : tables[level - 1].deviceAddress() | GttEntry.PRESENT | GttEntry.WRITABLE;
    }

    /** Whether {@code deviceAddress} lies in one of these scratch pages. */
    public boolean contains(long deviceAddress) {
        long page = deviceAddress & ~0xFFFL;
        if (page == data.deviceAddress()) {
            return true;
        }
        for (int level = 1; level <= 4; level++) {
            if (tables[level] != null && page == tables[level].deviceAddress()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        for (HostBuffer table : tables) {
            if (table != null) {
                table.close();
            }
        }
        if (data != null) {
            data.close();
        }
    }
}
