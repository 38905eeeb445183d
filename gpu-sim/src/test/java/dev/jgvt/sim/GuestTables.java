package dev.jgvt.sim;

/** A guest driver's 4-level page tables in {@link TestGuest} RAM, written through guest CPU stores. */
final class GuestTables {
    static final long P = 1;
    static final long RW = 2;
    static final long PS = 1L << 7;
    static final long IPS = 1L << 11;
    static final long ADDR = ((1L << 46) - 1) & ~0xFFFL;

    final TestGuest guest;
    final long pml4;
    /** Write PTEs as two 4-byte halves (low first), as a 32-bit guest would. */
    boolean halfWrites;

    GuestTables(TestGuest guest) {
        this.guest = guest;
        this.pml4 = guest.allocFrame();
    }

    long rootGpa() {
        return pml4 << 12;
    }

    /** The page table (gfn) that maps {@code va}, creating tables on the way (a PDE with {@code pdeFlags}). */
    long pt(long va, long pdeFlags) {
        long pdp = child(pml4, (int) (va >>> 39) & 0x1FF, 0);
        long pd = child(pdp, (int) (va >>> 30) & 0x1FF, 0);
        return child(pd, (int) (va >>> 21) & 0x1FF, pdeFlags);
    }

    long pd(long va) {
        long pdp = child(pml4, (int) (va >>> 39) & 0x1FF, 0);
        return child(pdp, (int) (va >>> 30) & 0x1FF, 0);
    }

    void map4k(long va, long gfn) {
        write(pt(va, 0), (int) (va >>> 12) & 0x1FF, gfn << 12 | P | RW);
    }

    void unmap4k(long va) {
        write(pt(va, 0), (int) (va >>> 12) & 0x1FF, 0);
    }

    long pteGpa(long va) {
        return pt(va, 0) << 12 | ((va >>> 12) & 0x1FF) << 3;
    }

    void map64k(long va, long firstGfn) {
        write(pt(va, IPS), (int) (va >>> 12) & 0x1F0, firstGfn << 12 | P | RW);
    }

    void map2m(long va, long firstGfn) {
        write(pd(va), (int) (va >>> 21) & 0x1FF, firstGfn << 12 | P | RW | PS);
    }

    void write(long tableGfn, int index, long entry) {
        long gpa = tableGfn << 12 | (long) index << 3;
        if (halfWrites) {
            guest.cpuWrite(gpa, entry & 0xFFFF_FFFFL, 4);
            guest.cpuWrite(gpa + 4, entry >>> 32, 4);
        } else {
            guest.cpuWrite(gpa, entry, 8);
        }
    }

    private long child(long table, int index, long flags) {
        long e = guest.cpuRead(table << 12 | (long) index << 3);
        if ((e & P) != 0) {
            return (e & ADDR) >>> 12;
        }
        long c = guest.allocFrame();
        write(table, index, c << 12 | P | RW | flags);
        return c;
    }
}
