package dev.jgvt.core.hw;

/**
 * The Gen8+ GTT entry codec (64-bit entries for the GGTT and every PPGTT level): bit 0 present, bit 1
 * writable, bit 7 PS (2 MiB leaf in a PDE, 1 GiB leaf in a PDPE), bit 11 IPS (a PDE whose page table uses
 * 64 KiB pages), bits 45:12 the address. Bits 62:52 are ignored by the hardware.
 *
 * <p>The address width is 46 bits, as GVT-g's {@code GTT_HAW} and the Skylake PRM's GTT entry format (Gen8+ GTT
 * entries carry host physical address bits up to 45; client parts populate fewer, but the field is 45:12). One
 * mask, {@link #ADDR_4K}, is the layout every decoder of a GGTT or PPGTT entry in the core uses.
 */
public final class GttEntry {
    public static final long PRESENT = 1L;
    public static final long WRITABLE = 1L << 1;
    public static final long PS = 1L << 7;
    public static final long IPS = 1L << 11;
    /** The PAT bit of a 2 MiB/1 GiB leaf (bit 7 is PS there). */
    public static final long PAT_HUGE = 1L << 12;
    /** The PAT bit of a 4 KiB leaf. */
    public static final long PAT_4K = 1L << 7;
    /** Address bits 45:12. */
    public static final long ADDR_4K = ((1L << 46) - 1) & ~0xFFFL;
    /** Address bits 45:16 of a 64 KiB leaf. */
    public static final long ADDR_64K = ((1L << 46) - 1) & ~0xFFFFL;
    /** Address bits 45:21 of a 2 MiB leaf. */
    public static final long ADDR_2M = ((1L << 46) - 1) & ~0x1FFFFFL;
    /** The flag bits a shadow entry takes over from the guest's entry. */
    public static final long LOW_FLAGS = 0xFFFL;
    /** Entries per 4 KiB table. */
    public static final int ENTRIES = 512;
    /** Guest entries of a 64 KiB page table are meaningful only at multiples of this index stride. */
    public static final int STRIDE_64K = 16;

    private GttEntry() {}

    public static boolean present(long entry) {
        return (entry & PRESENT) != 0;
    }

    /** The 4 KiB frame number an entry points at. */
    public static long frame(long entry) {
        return (entry & ADDR_4K) >>> 12;
    }

    /** The address bits (45:12) of an entry: the 4 KiB page it points at. */
    public static long address(long entry) {
        return entry & ADDR_4K;
    }

    /**
     * The address {@code gma} translates to through {@code entry}, a 4 KiB leaf: the entry's page plus the offset
     * of {@code gma} in its page, or -1 when the entry is not present.
     */
    public static long translate(long entry, long gma) {
        return present(entry) ? (entry & ADDR_4K) | (gma & 0xFFF) : -1;
    }

    /** The first frame of a 64 KiB leaf. */
    public static long frame64k(long entry) {
        return (entry & ADDR_64K) >>> 12;
    }

    /** The first frame of a 2 MiB leaf. */
    public static long frame2m(long entry) {
        return (entry & ADDR_2M) >>> 12;
    }

    /** GGTT index of a graphics memory address. */
    public static long ggttIndex(long gma) {
        return gma >>> 12;
    }

    /** Table index at {@code level} (1 PT … 4 PML4) of a graphics address. */
    public static int index(long gma, int level) {
        return (int) (gma >>> (12 + 9 * (level - 1))) & 0x1FF;
    }
}
