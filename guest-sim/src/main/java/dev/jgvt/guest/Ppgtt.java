package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

/**
 * A 4-level per-process GTT the guest builds in its own RAM (Gen8+ format: 512 64-bit entries per 4 KiB
 * table, PML4 → PDP → PD → PT). Every table write goes through {@link GuestPlatform#ramWrite}, so once the
 * host tracks these frames it sees each update, as it would from a real guest.
 */
public final class Ppgtt implements PageTables {
    static final long PRESENT = 1;
    static final long WRITABLE = 1 << 1;
    static final long PAGE_SIZE_BIT = 1 << 7;
    static final long IPS_64K = 1 << 11;
    static final long ADDRESS_MASK = 0x0000_3FFF_FFFF_F000L;
    private static final long PAGE = 4096;

    private final GuestPlatform platform;
    private final FrameAllocator frames;
    private final long pml4;

    public Ppgtt(GuestPlatform platform, FrameAllocator frames) {
        this.platform = requireNonNull(platform, "platform is null");
        this.frames = requireNonNull(frames, "frames is null");
        this.pml4 = newTable();
    }

    /** The root pointer (guest physical address of the PML4). */
    public long root() {
        return pml4;
    }

    /** The root pointer in PDP0, the other PDPs zero. */
    @Override
    public long[] pdps() {
        return new long[] {pml4, 0, 0, 0};
    }

    @Override
    public boolean fourLevel() {
        return true;
    }

    /** Maps {@code [gma, gma + bytes)} to {@code [gpa, gpa + bytes)} with 4 KiB pages. */
    @Override
    public void map4k(long gma, long gpa, long bytes) {
        checkAligned(gma, gpa, bytes, PAGE);
        for (long off = 0; off < bytes; off += PAGE) {
            long pt = tableFor(gma + off, 0, false);
            platform.ramWriteLong(pt + index(gma + off, 0) * 8, ((gpa + off) & ADDRESS_MASK) | PRESENT | WRITABLE);
        }
    }

    /** Maps with 2 MiB pages: PD entries with the page-size bit. */
    public void map2m(long gma, long gpa, long bytes) {
        long huge = 2L << 20;
        checkAligned(gma, gpa, bytes, huge);
        for (long off = 0; off < bytes; off += huge) {
            long pd = tableFor(gma + off, 1, false);
            platform.ramWriteLong(pd + index(gma + off, 1) * 8,
                    ((gpa + off) & ADDRESS_MASK) | PRESENT | WRITABLE | PAGE_SIZE_BIT);
        }
    }

    /** Maps with 64 KiB pages: the PD entry gets IPS, and every 16th PT entry maps 64 KiB. */
    public void map64k(long gma, long gpa, long bytes) {
        long big = 64L << 10;
        checkAligned(gma, gpa, bytes, big);
        for (long off = 0; off < bytes; off += big) {
            long pt = tableFor(gma + off, 0, true);
            platform.ramWriteLong(pt + index(gma + off, 0) * 8, ((gpa + off) & ADDRESS_MASK) | PRESENT | WRITABLE);
        }
    }

    /** Clears the 4 KiB mapping of {@code gma} (the entry becomes not present). */
    public void unmap4k(long gma) {
        long pt = tableFor(gma, 0, false);
        platform.ramWriteLong(pt + index(gma, 0) * 8, 0);
    }

    /**
     * Walks the table for {@code gma} as the GPU would and returns the guest physical address, or -1 when
     * not mapped. Reads through the platform, so it sees the guest's RAM as it is.
     */
    @Override
    public long translate(long gma) {
        long table = pml4;
        for (int level = 3; level >= 0; level--) {
            long entry = platform.ramReadLong(table + index(gma, level) * 8);
            if ((entry & PRESENT) == 0) {
                return -1;
            }
            if (level == 1 && (entry & PAGE_SIZE_BIT) != 0) {
                return (entry & ADDRESS_MASK & ~((2L << 20) - 1)) | (gma & ((2L << 20) - 1));
            }
            if (level == 0) {
                return (entry & ADDRESS_MASK) | (gma & (PAGE - 1));
            }
            if (level == 1 && (entry & IPS_64K) != 0) {
                long pte = platform.ramReadLong((entry & ADDRESS_MASK) + (index(gma, 0) & ~15L) * 8);
                return (pte & PRESENT) == 0 ? -1 : (pte & ADDRESS_MASK & ~0xFFFFL) | (gma & 0xFFFF);
            }
            table = entry & ADDRESS_MASK;
        }
        return -1;
    }

    /**
     * The table whose entries are selected by {@code index(gma, indexLevel)} (0 = PT, 1 = PD, 2 = PDP,
     * 3 = PML4), creating missing tables on the way down. {@code ips} marks the PD entry for 64 KiB pages.
     */
    private long tableFor(long gma, int indexLevel, boolean ips) {
        long table = pml4;
        for (int level = 3; level > indexLevel; level--) {
            long slot = table + index(gma, level) * 8;
            long entry = platform.ramReadLong(slot);
            boolean wantIps = level == 1 && ips;
            if ((entry & PRESENT) == 0 || (level <= 2 && (entry & PAGE_SIZE_BIT) != 0)) {
                entry = newTable() | PRESENT | WRITABLE | (wantIps ? IPS_64K : 0);
                platform.ramWriteLong(slot, entry);
            } else if (wantIps && (entry & IPS_64K) == 0) {
                entry |= IPS_64K;
                platform.ramWriteLong(slot, entry);
            }
            table = entry & ADDRESS_MASK;
        }
        return table;
    }

    private long newTable() {
        long frame = frames.frame();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            platform.ramWrite(frame, arena.allocate(PAGE));
        }
        return frame;
    }

    static long index(long gma, int level) {
        return (gma >>> (12 + 9 * level)) & 0x1FF;
    }

    private static void checkAligned(long gma, long gpa, long bytes, long unit) {
        if (gma % unit != 0 || gpa % unit != 0 || bytes <= 0 || bytes % unit != 0 || gma >>> 48 != 0) {
            throw new IllegalArgumentException(String.format("mapping 0x%x -> 0x%x (0x%x bytes) is not %d-aligned or exceeds 48 bits",
                    gma, gpa, bytes, unit));
        }
    }
}
