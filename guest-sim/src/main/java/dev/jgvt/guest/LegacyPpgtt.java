package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

/**
 * A legacy 32-bit PPGTT (Gen8 3-level): address bits 31:30 pick one of four page directories, whose pointers
 * live in the context's PDP registers rather than in a table; bits 29:21 pick the directory entry (a page
 * table), bits 20:12 the page. Entries have the same format as in the 4-level tables.
 */
final class LegacyPpgtt implements PageTables {
    private static final long PAGE = 4096;

    private final GuestPlatform platform;
    private final FrameAllocator frames;
    private final long[] directories = new long[4];

    LegacyPpgtt(GuestPlatform platform, FrameAllocator frames) {
        this.platform = requireNonNull(platform, "platform is null");
        this.frames = requireNonNull(frames, "frames is null");
        for (int i = 0; i < directories.length; i++) {
            directories[i] = newTable();
        }
    }

    @Override
    public void map4k(long va, long gpa, long bytes) {
        if (va % PAGE != 0 || gpa % PAGE != 0 || bytes <= 0 || bytes % PAGE != 0 || va + bytes > 1L << 32) {
            throw new IllegalArgumentException(String.format("mapping 0x%x -> 0x%x (0x%x bytes) is not page aligned within 32 bits",
                    va, gpa, bytes));
        }
        for (long off = 0; off < bytes; off += PAGE) {
            long slot = directories[(int) ((va + off) >>> 30)] + Ppgtt.index(va + off, 1) * 8;
            long pde = platform.ramReadLong(slot);
            if ((pde & Ppgtt.PRESENT) == 0) {
                pde = newTable() | Ppgtt.PRESENT | Ppgtt.WRITABLE;
                platform.ramWriteLong(slot, pde);
            }
            platform.ramWriteLong((pde & Ppgtt.ADDRESS_MASK) + Ppgtt.index(va + off, 0) * 8,
                    ((gpa + off) & Ppgtt.ADDRESS_MASK) | Ppgtt.PRESENT | Ppgtt.WRITABLE);
        }
    }

    @Override
    public long translate(long va) {
        if (va < 0 || va >>> 32 != 0) {
            return -1;
        }
        long pde = platform.ramReadLong(directories[(int) (va >>> 30)] + Ppgtt.index(va, 1) * 8);
        if ((pde & Ppgtt.PRESENT) == 0) {
            return -1;
        }
        long pte = platform.ramReadLong((pde & Ppgtt.ADDRESS_MASK) + Ppgtt.index(va, 0) * 8);
        return (pte & Ppgtt.PRESENT) == 0 ? -1 : (pte & Ppgtt.ADDRESS_MASK) | (va & (PAGE - 1));
    }

    @Override
    public long[] pdps() {
        return directories.clone();
    }

    @Override
    public boolean fourLevel() {
        return false;
    }

    private long newTable() {
        long frame = frames.frame();
        Ram.clear(platform, frame, PAGE);
        return frame;
    }
}
