package dev.jgvt.guest;

/**
 * A per-process GTT in guest RAM as a context uses it: either 4-level (48-bit addresses, the PML4 in PDP0)
 * or legacy 3-level (32-bit addresses, four page directories in PDP0..3).
 */
sealed interface PageTables permits Ppgtt, LegacyPpgtt {
    /** Maps {@code [va, va + bytes)} to {@code [gpa, gpa + bytes)} with 4 KiB pages. */
    void map4k(long va, long gpa, long bytes);

    /** The guest physical address {@code va} maps to, or -1. */
    long translate(long va);

    /** The context's page-directory pointers PDP0..PDP3. */
    long[] pdps();

    /** True for 4-level (48-bit) tables, false for legacy 3-level (32-bit) ones. */
    boolean fourLevel();
}
