package dev.jgvt.core.gtt;

import dev.jgvt.core.hw.GttEntry;

/**
 * The GGTT window of BAR0 (at +8 MiB): guest accesses to the vGPU's view of the global GTT. The MMIO layer
 * routes every access in the window here; the GTT layer validates, pairs 4-byte halves, shadows and pins.
 *
 * <p>Offsets are relative to the window start; entry {@code i} is at offset {@code 8 * i}. Called under
 * the vGPU's lock on the trapping thread. Never throws for anything a guest does.
 */
public interface GgttWindow {
    /** A read of 4 or 8 bytes at {@code offset} (8-aligned for 8, 4-aligned for 4); other sizes read 0. */
    long read(long offset, int size);

    /** A write of 4 or 8 bytes at {@code offset}; an 8-byte write is one entry. */
    void write(long offset, int size, long value);

    /**
     * The guest physical address graphics address {@code gma} maps to through the guest's entry, or -1 when the
     * entry is not present (or not the vGPU's). Never throws.
     */
    default long gmaToGpa(long gma) {
        return gma < 0 ? -1 : GttEntry.translate(read((gma >>> 12) * 8, 8), gma);
    }
}
