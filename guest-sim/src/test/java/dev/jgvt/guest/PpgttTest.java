package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

final class PpgttTest {
    static LongStream seeds() {
        return LongStream.of(Long.getLong("gvt.seed", 7L), 11, 99, 12345);
    }

    /**
     * Builds random mappings of all three page sizes and checks every mapped page through an independent
     * walker written from the Gen8 entry format, not through Ppgtt's own translate.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void tablesInRamTranslateLikeTheHardwareWalk(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        RamPlatform platform = new RamPlatform(64L << 20, 16L << 20, 1L << 28);
        FrameAllocator frames = new FrameAllocator(1 << 20, 32L << 20);
        Ppgtt ppgtt = new Ppgtt(platform, frames);
        Map<Long, Long> expected = new HashMap<>(); // 4 KiB gma page -> gpa page
        long dataBase = 32L << 20;
        for (int i = 0; i < 40; i++) {
            int kind = random.nextInt(3);
            long unit = kind == 0 ? 4096 : kind == 1 ? 64 << 10 : 2 << 20;
            // each mapping gets its own 2 MiB-aligned GMA window so sizes never share a table
            long gma = ((long) random.nextInt(1 << 20) << 21) + (kind == 2 ? 0 : unit * random.nextInt(8));
            long gpa = dataBase + unit * random.nextInt((int) ((32L << 20) / unit));
            if (expected.containsKey(gma & ~((2L << 20) - 1))) {
                continue;
            }
            switch (kind) {
                case 0 -> ppgtt.map4k(gma, gpa, unit);
                case 1 -> ppgtt.map64k(gma, gpa, unit);
                default -> ppgtt.map2m(gma, gpa, unit);
            }
            for (long off = 0; off < unit; off += 4096) {
                expected.put(gma + off, gpa + off);
            }
            expected.putIfAbsent(gma & ~((2L << 20) - 1), expected.get(gma & ~((2L << 20) - 1)));
        }
        for (Map.Entry<Long, Long> e : expected.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            long offset = random.nextInt(4096) & ~7;
            assertThat(walk(platform, ppgtt.root(), e.getKey() + offset))
                    .as("seed %d gma 0x%x", seed, e.getKey() + offset)
                    .isEqualTo(e.getValue() + offset);
            assertThat(ppgtt.translate(e.getKey() + offset)).isEqualTo(e.getValue() + offset);
        }
    }

    @Test
    void unmappedAddressesDoNotTranslate() {
        RamPlatform platform = new RamPlatform(8L << 20, 16L << 20, 1L << 28);
        Ppgtt ppgtt = new Ppgtt(platform, new FrameAllocator(1 << 20, 8L << 20));
        ppgtt.map4k(0x1000_0000L, 0x40_0000L, 8192);
        assertThat(walk(platform, ppgtt.root(), 0x1000_2000L)).isEqualTo(-1);
        ppgtt.unmap4k(0x1000_1000L);
        assertThat(walk(platform, ppgtt.root(), 0x1000_1000L)).isEqualTo(-1);
        assertThat(walk(platform, ppgtt.root(), 0x1000_0008L)).isEqualTo(0x40_0008L);
        assertThatThrownBy(() -> ppgtt.map2m(0x1000, 0, 2 << 20)).hasMessageContaining("not 2097152-aligned");
    }

    @Test
    void legacyTablesTranslateLikeTheThreeLevelHardwareWalk() {
        RamPlatform platform = new RamPlatform(8L << 20, 16L << 20, 1L << 28);
        LegacyPpgtt tables = new LegacyPpgtt(platform, new FrameAllocator(1 << 20, 8L << 20));
        long[] vas = {0, 0x3FFF_F000L, 0x4000_0000L, 0x8020_1000L, 0xFFFF_F000L};
        for (int i = 0; i < vas.length; i++) {
            tables.map4k(vas[i], 0x50_0000L + i * 0x1000L, 4096);
        }
        long[] pdps = tables.pdps();
        assertThat(pdps).doesNotHaveDuplicates().doesNotContain(0L);
        assertThat(java.util.Arrays.stream(pdps).allMatch(p -> p % 4096 == 0)).isTrue();
        for (int i = 0; i < vas.length; i++) {
            long va = vas[i] + 0x123 * 8;
            // 3-level walk: bits 31:30 select the PDP register, 29:21 the PDE, 20:12 the PTE
            long pde = platform.ramReadLong(pdps[(int) (va >>> 30)] + ((va >>> 21) & 511) * 8);
            assertThat(pde & 1).isEqualTo(1);
            long pte = platform.ramReadLong((pde & 0x3FFF_FFFF_F000L) + ((va >>> 12) & 511) * 8);
            assertThat((pte & 0x3FFF_FFFF_F000L) + (va & 0xFFF)).isEqualTo(0x50_0000L + i * 0x1000L + 0x123 * 8);
            assertThat(tables.translate(va)).isEqualTo(0x50_0000L + i * 0x1000L + 0x123 * 8);
        }
        assertThat(tables.translate(0x1000)).isEqualTo(-1);
        assertThat(tables.fourLevel()).isFalse();
        assertThatThrownBy(() -> tables.map4k(0xFFFF_F000L, 0, 8192)).hasMessageContaining("32 bits");
    }

    /** Gen8 4-level walk, from the entry format: present bit 0, PS bit 7 in a PDE, IPS bit 11 in a PDE. */
    private static long walk(RamPlatform platform, long root, long gma) {
        long pml4e = platform.ramReadLong(root + ((gma >>> 39) & 511) * 8);
        if ((pml4e & 1) == 0) {
            return -1;
        }
        long pdpe = platform.ramReadLong((pml4e & 0x3FFF_FFFF_F000L) + ((gma >>> 30) & 511) * 8);
        if ((pdpe & 1) == 0) {
            return -1;
        }
        long pde = platform.ramReadLong((pdpe & 0x3FFF_FFFF_F000L) + ((gma >>> 21) & 511) * 8);
        if ((pde & 1) == 0) {
            return -1;
        }
        if ((pde & 0x80) != 0) {
            return (pde & 0x3FFF_FFE0_0000L) + (gma & 0x1F_FFFF);
        }
        long ptIndex = (gma >>> 12) & 511;
        if ((pde & 0x800) != 0) {
            long pte = platform.ramReadLong((pde & 0x3FFF_FFFF_F000L) + (ptIndex & ~15) * 8);
            return (pte & 1) == 0 ? -1 : (pte & 0x3FFF_FFFF_0000L) + (gma & 0xFFFF);
        }
        long pte = platform.ramReadLong((pde & 0x3FFF_FFFF_F000L) + ptIndex * 8);
        return (pte & 1) == 0 ? -1 : (pte & 0x3FFF_FFFF_F000L) + (gma & 0xFFF);
    }
}
