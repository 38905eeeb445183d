package dev.jgvt.core.gtt;

/**
 * PPGTT shadowing options.
 *
 * @param outOfSync relaxed mode: a leaf page table written {@code oosThreshold} times is unprotected and
 *     re-synchronised in bulk before the next submission (gHyvi's relaxed shadowing, GVT-g's OOS pages)
 * @param oosThreshold trapped writes to a page table before it goes out of sync (GVT-g: 2)
 * @param oosPages at most this many page tables out of sync at once (GVT-g's pool: 8192)
 * @param budgetPages shadow page tables this vGPU may hold; unpinned PPGTTs are reclaimed oldest first
 */
public record PpgttConfig(boolean outOfSync, int oosThreshold, int oosPages, int budgetPages) {
    /** Strict mode (every write re-shadowed), 64 Ki shadow pages (256 MiB). */
    public static final PpgttConfig STRICT = new PpgttConfig(false, 2, 8192, 1 << 16);
    /** Relaxed mode with GVT-g's OOS numbers, 64 Ki shadow pages. */
    public static final PpgttConfig RELAXED = new PpgttConfig(true, 2, 8192, 1 << 16);

    public PpgttConfig {
        if (oosThreshold < 1 || oosPages < 0 || budgetPages < 8) {
            throw new IllegalArgumentException("bad PPGTT config: threshold " + oosThreshold + ", OOS pages " + oosPages
                    + ", budget " + budgetPages);
        }
    }

    public PpgttConfig withBudget(int pages) {
        return new PpgttConfig(outOfSync, oosThreshold, oosPages, pages);
    }
}
