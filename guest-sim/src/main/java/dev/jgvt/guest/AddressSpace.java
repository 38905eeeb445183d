package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

/**
 * A process's GPU address space: a PPGTT in guest RAM with a bump allocator of virtual addresses, which the
 * guest announces to the host through PVINFO (the pdp[] roots and a g2v "L4 create" or "L3 create") as a
 * vGPU-aware driver does, and retires at the end.
 */
final class AddressSpace {
    private static final long PAGE = 4096;
    private static final long ALIGNMENT = 64 << 10;

    private final GuestPlatform platform;
    private final PageTables tables;
    private long next;
    private long entries;

    AddressSpace(GuestPlatform platform, PageTables tables, long base) {
        this.platform = requireNonNull(platform, "platform is null");
        this.tables = requireNonNull(tables, "tables is null");
        this.next = base;
    }

    /** Maps {@code bytes} of contiguous RAM at {@code gpa} at a fresh virtual address, returned. */
    long map(long gpa, long bytes) {
        long length = (bytes + PAGE - 1) & -PAGE;
        long va = next;
        tables.map4k(va, gpa, length);
        entries += length / PAGE;
        next = (va + length + ALIGNMENT - 1) & -ALIGNMENT;
        return va;
    }

    PageTables tables() {
        return tables;
    }

    long entriesWritten() {
        return entries;
    }

    void announce() {
        notify(platform, tables, true);
    }

    void retire() {
        notify(platform, tables, false);
    }

    /** Writes the tables' roots into PVINFO's pdp[] and the g2v create or destroy code for their depth. */
    static void notify(GuestPlatform platform, PageTables tables, boolean create) {
        long[] pdps = tables.pdps();
        for (int i = 0; i < pdps.length; i++) {
            platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.PDP0_LO + 8L * i, 4, pdps[i] & 0xFFFF_FFFFL);
            platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.PDP0_LO + 8L * i + 4, 4, pdps[i] >>> 32);
        }
        int code = tables.fourLevel()
                ? (create ? PvInfo.G2V_PPGTT_L4_CREATE : PvInfo.G2V_PPGTT_L4_DESTROY)
                : (create ? PvInfo.G2V_PPGTT_L3_CREATE : PvInfo.G2V_PPGTT_L3_DESTROY);
        platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.G2V_NOTIFY, 4, code);
    }
}
