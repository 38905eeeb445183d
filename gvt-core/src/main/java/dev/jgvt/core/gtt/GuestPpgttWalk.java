package dev.jgvt.core.gtt;

import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;

/** Walks a guest's PPGTT in guest memory, as the hardware would: graphics address to guest physical address. */
final class GuestPpgttWalk {
    private GuestPpgttWalk() {}

    /**
     * The guest physical address that graphics address {@code gva} maps to in {@code mm}'s guest page tables
     * (read from guest memory, so parked and out-of-sync entries are seen as the guest wrote them), or -1 when
     * it is not mapped, maps a 1 GiB page, or a table is not guest RAM. GVT-g's {@code gma_to_gpa} for PPGTT
     * addresses (ring and batch buffers). Never throws.
     */
    static long gmaToGpa(GuestMemory memory, PpgttRoot root, long gva) {
        long table;
        int level;
        if (root.mode() == PpgttRoot.Mode.L4) {
            if ((gva >>> 48) != 0) {
                return -1;
            }
            table = root.pdp0() & GttEntry.ADDR_4K;
            level = 4;
        } else {
            if ((gva >>> 32) != 0 || root.pdp((int) (gva >>> 30) & 3) == 0) {
                return -1;
            }
            table = root.pdp((int) (gva >>> 30) & 3) & GttEntry.ADDR_4K;
            level = 2;
        }
        try {
            while (true) {
                int index = GttEntry.index(gva, level);
                long e = memory.readLong(table | (long) index << 3);
                if (!GttEntry.present(e)) {
                    return -1;
                }
                if (level == 3 && (e & GttEntry.PS) != 0) {
                    return -1;
                }
                if (level == 2 && (e & GttEntry.PS) != 0) {
                    return (e & GttEntry.ADDR_2M) | (gva & 0x1F_FFFF);
                }
                if (level == 2 && (e & GttEntry.IPS) != 0) {
                    long pte = memory.readLong((e & GttEntry.ADDR_4K) | (long) (GttEntry.index(gva, 1) & ~15) << 3);
                    return GttEntry.present(pte) ? (pte & GttEntry.ADDR_64K) | (gva & 0xFFFF) : -1;
                }
                if (level == 1) {
                    return (e & GttEntry.ADDR_4K) | (gva & 0xFFF);
                }
                table = e & GttEntry.ADDR_4K;
                level--;
            }
        } catch (GvtException e) {
            return -1;
        }
    }
}
