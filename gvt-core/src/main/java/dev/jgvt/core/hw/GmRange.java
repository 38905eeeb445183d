package dev.jgvt.core.hw;

/**
 * A range of graphics memory (GGTT address space) {@code [base, base + size)}, 4 KiB aligned.
 * A vGPU owns two: its slice of the aperture (low GM, CPU-visible through BAR2) and of hidden GM (high GM).
 */
public record GmRange(long base, long size) {
    public GmRange {
        if (base < 0 || size < 0 || (base & 0xFFF) != 0 || (size & 0xFFF) != 0 || base + size < base) {
            throw new IllegalArgumentException("graphics memory range must be 4 KiB aligned and non-negative: base 0x"
                    + Long.toHexString(base) + ", size 0x" + Long.toHexString(size));
        }
    }

    public long end() {
        return base + size;
    }

    /** Whether {@code [address, address + length)} lies wholly inside this range (length >= 1; no wrap). */
    public boolean contains(long address, long length) {
        return length > 0 && address >= base && address - base <= size - length;
    }

    @Override
    public String toString() {
        return String.format("[0x%x, 0x%x)", base, end());
    }
}
