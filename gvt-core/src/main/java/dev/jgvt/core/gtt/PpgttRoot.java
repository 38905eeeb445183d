package dev.jgvt.core.gtt;

/**
 * The guest's root pointers of one PPGTT, as found in a context image, a PVINFO notification or a PDP load:
 * a 4-level (48-bit) root is one PML4 address in {@code pdp0}; a legacy 3-level (32-bit) root is four page
 * directory addresses. A root pointer is present when non-zero (guest drivers write them without a present
 * bit); the address is bits 45:12.
 */
public record PpgttRoot(Mode mode, long pdp0, long pdp1, long pdp2, long pdp3) {
    /** The addressing mode of the context (context descriptor bits 4:3: 1 legacy 32-bit, 3 48-bit). */
    public enum Mode {
        L3,
        L4
    }

    public PpgttRoot {
        java.util.Objects.requireNonNull(mode, "mode is null");
        if (mode == Mode.L4 && (pdp1 | pdp2 | pdp3) != 0) {
            throw new IllegalArgumentException("a 4-level root uses pdp0 only");
        }
    }

    /** A 4-level root whose PML4 table is at guest physical address {@code pml4}. */
    public static PpgttRoot l4(long pml4) {
        return new PpgttRoot(Mode.L4, pml4, 0, 0, 0);
    }

    /** A 3-level root of four page directories (0 = not present). */
    public static PpgttRoot l3(long pd0, long pd1, long pd2, long pd3) {
        return new PpgttRoot(Mode.L3, pd0, pd1, pd2, pd3);
    }

    /** Root pointer {@code i} (0..3). */
    public long pdp(int i) {
        return switch (i) {
            case 0 -> pdp0;
            case 1 -> pdp1;
            case 2 -> pdp2;
            case 3 -> pdp3;
            default -> throw new IndexOutOfBoundsException(i);
        };
    }

    /** The number of root pointers of this mode (1 or 4). */
    public int count() {
        return mode == Mode.L4 ? 1 : 4;
    }

    // equals and hashCode written out: a shadow PPGTT is looked up by its root at every workload, and the record's
    // generated ones go through method handles

    @Override
    public boolean equals(Object o) {
        return o instanceof PpgttRoot r && mode == r.mode && pdp0 == r.pdp0 && pdp1 == r.pdp1 && pdp2 == r.pdp2
                && pdp3 == r.pdp3;
    }

    @Override
    public int hashCode() {
        long h = pdp0 * 31 + pdp1;
        h = h * 31 + pdp2;
        h = h * 31 + pdp3;
        return Long.hashCode(h) * 31 + mode.ordinal();
    }

    @Override
    public String toString() {
        return mode == Mode.L4 ? String.format("L4[0x%x]", pdp0)
                : String.format("L3[0x%x, 0x%x, 0x%x, 0x%x]", pdp0, pdp1, pdp2, pdp3);
    }
}
