package dev.jgvt.core.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class ConfigSpaceTest {
    private static final long APERTURE = 1L << 30;
    private static final long SLICE = 256L << 20;
    private static final long SLICE_SIZE = 128L << 20;
    private final List<String> events = new ArrayList<>();
    private final ConfigSpace cfg = new ConfigSpace(0x1912, APERTURE, SLICE, SLICE_SIZE, new PciListener() {
        @Override
        public void bar0Trap(long base, long size, boolean trapped) {
            events.add((trapped ? "trap " : "untrap ") + Long.toHexString(base));
        }

        @Override
        public void apertureMap(long gpa, long size, boolean mapped) {
            events.add((mapped ? "map " : "unmap ") + Long.toHexString(gpa) + "+" + Long.toHexString(size));
        }

        @Override
        public void opRegionAddress(long gpa) {
            events.add("asls " + Long.toHexString(gpa));
        }

        @Override
        public void swsci(int value) {
            events.add("swsci " + Integer.toHexString(value));
        }
    });

    @Test
    void identityIsSkylakeGt2AndReadOnly() {
        assertThat(cfg.read(0, 4)).isEqualTo(0x19128086L);
        cfg.write(0, 4, 0xFFFFFFFFL);
        assertThat(cfg.read(0, 4)).isEqualTo(0x19128086L);
        assertThat(cfg.read(ConfigSpace.CLASS_CODE, 3)).isEqualTo(0x030000);
        assertThat(cfg.read(ConfigSpace.STATUS, 2) & ConfigSpace.STATUS_CAP_LIST).isNotZero();
        assertThat(cfg.read(ConfigSpace.CAP_POINTER, 1)).isEqualTo(0xAC);
        assertThat(cfg.read(0xAC, 1)).isEqualTo(0x05);
        assertThat(cfg.read(ConfigSpace.INTERRUPT_PIN, 1)).isEqualTo(1);
    }

    @Test
    void commandRegisterHonoursItsMask() {
        cfg.write(ConfigSpace.COMMAND, 2, 0xFFFF);
        assertThat(cfg.read(ConfigSpace.COMMAND, 2)).isEqualTo(0x0547);
    }

    @Test
    void statusErrorBitsAreWriteOneToClear() {
        cfg.write(ConfigSpace.STATUS, 2, 0xFFFF); // ones never set anything
        assertThat(cfg.read(ConfigSpace.STATUS, 2)).isEqualTo(ConfigSpace.STATUS_CAP_LIST);
        cfg.raiseStatus(0x2000 | 0x8000); // received master abort, detected parity error
        assertThat(cfg.read(ConfigSpace.STATUS, 2)).isEqualTo(0xA000 | ConfigSpace.STATUS_CAP_LIST);
        cfg.write(ConfigSpace.STATUS, 2, 0);
        assertThat(cfg.read(ConfigSpace.STATUS, 2)).isEqualTo(0xA000 | ConfigSpace.STATUS_CAP_LIST);
        cfg.write(ConfigSpace.STATUS + 1, 1, 0x20);
        assertThat(cfg.read(ConfigSpace.STATUS, 2)).isEqualTo(0x8000 | ConfigSpace.STATUS_CAP_LIST);
    }

    @Test
    void bar0SizingReturnsTheSizeMaskAndDoesNotMoveIt() {
        cfg.write(ConfigSpace.COMMAND, 2, ConfigSpace.COMMAND_MEMORY);
        events.clear();
        cfg.write(ConfigSpace.BAR0, 4, 0xFFFFFFFFL);
        cfg.write(ConfigSpace.BAR0 + 4, 4, 0xFFFFFFFFL);
        assertThat(cfg.read(ConfigSpace.BAR0, 4)).isEqualTo(0xFF000004L);
        assertThat(cfg.read(ConfigSpace.BAR0 + 4, 4)).isEqualTo(0xFFFFFFFFL);
        assertThat(events).isEmpty();
        cfg.write(ConfigSpace.BAR0, 8, 0);
        assertThat(cfg.read(ConfigSpace.BAR0, 4)).isEqualTo(4);
        assertThat(events).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 28, 1L << 29, 1L << 30, 1L << 32})
    void bar2SizingFollowsTheAperture(long aperture) {
        ConfigSpace c = new ConfigSpace(0x1912, aperture, 0, 4096, new PciListener() {});
        c.write(ConfigSpace.BAR2, 4, 0xFFFFFFFFL);
        c.write(ConfigSpace.BAR2 + 4, 4, 0xFFFFFFFFL);
        long mask = ~(aperture - 1);
        assertThat(c.read(ConfigSpace.BAR2, 4)).isEqualTo((mask & 0xFFFFFFF0L) | 0xC);
        assertThat(c.read(ConfigSpace.BAR2 + 4, 4)).isEqualTo(mask >>> 32 & 0xFFFFFFFFL);
    }

    @Test
    void memoryEnableGatesTrappingAndApertureMapping() {
        cfg.write(ConfigSpace.BAR0, 8, 0x1_0000_0000L);
        cfg.write(ConfigSpace.BAR2, 8, 0x2_0000_0000L);
        assertThat(events).isEmpty();
        cfg.write(ConfigSpace.COMMAND, 2, ConfigSpace.COMMAND_MEMORY | ConfigSpace.COMMAND_MASTER);
        assertThat(events).containsExactly("trap 100000000", "map 210000000+8000000");
        events.clear();
        cfg.write(ConfigSpace.COMMAND, 2, ConfigSpace.COMMAND_MEMORY); // no change of MEMORY
        assertThat(events).isEmpty();
        cfg.write(ConfigSpace.COMMAND, 1, 0);
        assertThat(events).containsExactly("untrap 100000000", "unmap 210000000+8000000");
        assertThat(cfg.memoryEnabled()).isFalse();
    }

    @Test
    void movingBarsWhileMemoryIsEnabledRetrapsAndRemaps() {
        cfg.write(ConfigSpace.COMMAND, 2, ConfigSpace.COMMAND_MEMORY);
        events.clear();
        cfg.write(ConfigSpace.BAR0, 4, 0xF1000000L);
        assertThat(events).containsExactly("untrap 0", "trap f1000000");
        events.clear();
        cfg.write(ConfigSpace.BAR0 + 4, 4, 1);
        assertThat(events).containsExactly("untrap f1000000", "trap 1f1000000");
        events.clear();
        // low address bits of a BAR cannot be set: the base stays 16 MiB aligned
        cfg.write(ConfigSpace.BAR0, 4, 0xF1234567L);
        assertThat(cfg.bar0Base()).isEqualTo(0x1_F100_0000L);
        assertThat(events).isEmpty();
        cfg.write(ConfigSpace.BAR2, 8, 0x8_4000_0000L);
        assertThat(events).containsExactly("unmap 10000000+8000000", "map 850000000+8000000");
    }

    @Test
    void msiCapabilityIsSingleMessageThirtyTwoBit() {
        cfg.write(ConfigSpace.MSI_CONTROL, 2, 0xFFFF);
        assertThat(cfg.read(ConfigSpace.MSI_CONTROL, 2)).isEqualTo(1);
        assertThat(cfg.msiEnabled()).isTrue();
        cfg.write(ConfigSpace.MSI_ADDRESS, 4, 0xFEE0_0003L);
        assertThat(cfg.msiAddress()).isEqualTo(0xFEE0_0000L);
        cfg.write(ConfigSpace.MSI_DATA, 2, 0x4041);
        assertThat(cfg.msiData()).isEqualTo(0x4041);
        cfg.write(ConfigSpace.MSI_CONTROL, 1, 0);
        assertThat(cfg.msiEnabled()).isFalse();
    }

    @Test
    void unusedBarsReadZeroAndTheRomBarSizesAsTheRom() {
        for (int off : new int[] {ConfigSpace.BAR4, 0x24, ConfigSpace.BDSM}) {
            cfg.write(off, 4, 0xFFFFFFFFL);
            assertThat(cfg.read(off, 4)).as("0x%x", off).isZero();
        }
        cfg.write(ConfigSpace.ROM, 4, 0xFFFFF7FEL); // QEMU's sizing write: all address bits, enable clear
        assertThat(cfg.read(ConfigSpace.ROM, 4)).isEqualTo(-(long) ConfigSpace.ROM_SIZE & 0xFFFFF800L);
        cfg.write(ConfigSpace.ROM, 4, 0xFEBF_C001L);
        assertThat(cfg.read(ConfigSpace.ROM, 4)).isEqualTo(0xFEBF_C001L);
    }

    @Test
    void gmchPresentsA4GiBGgttAndNoStolenMemoryReadOnly() {
        long gmch = cfg.read(ConfigSpace.GMCH, 2);
        assertThat((gmch >>> 6) & 3).as("GGMS").isEqualTo(3); // 8 MiB of 8-byte entries = 4 GiB, the BAR0 window
        assertThat((gmch >>> 8) & 0xFF).as("GMS").isZero();
        assertThat(1L << ((gmch >>> 6) & 3)).as("GGTT table MiB (BAR0 [8 MiB, 16 MiB))").isEqualTo(8);
        cfg.write(ConfigSpace.GMCH, 2, 0xFF01);
        assertThat(cfg.read(ConfigSpace.GMCH, 2)).isEqualTo(gmch);
        cfg.reset();
        assertThat(cfg.read(ConfigSpace.GMCH, 2)).isEqualTo(gmch);
    }

    @Test
    void aslsAndSwsciReachTheListener() {
        cfg.write(ConfigSpace.ASLS, 4, 0x7FF0_0000L);
        assertThat(cfg.read(ConfigSpace.ASLS, 4)).isEqualTo(0x7FF0_0000L);
        cfg.write(ConfigSpace.SWSCI, 2, 0x8000);
        cfg.write(ConfigSpace.SWSCI, 2, 0x8001);
        assertThat(events).containsExactly("asls 7ff00000", "swsci 8001");
        cfg.completeSwsci();
        assertThat(cfg.read(ConfigSpace.SWSCI, 2)).isEqualTo(0x8000);
    }

    @Test
    void resetRestoresPowerOnContents() {
        cfg.write(ConfigSpace.COMMAND, 2, 7);
        cfg.write(ConfigSpace.BAR0, 4, 0xF1000000L);
        cfg.write(ConfigSpace.INTERRUPT_LINE, 1, 11);
        cfg.reset();
        assertThat(cfg.read(ConfigSpace.COMMAND, 2)).isZero();
        assertThat(cfg.read(ConfigSpace.BAR0, 4)).isEqualTo(4);
        assertThat(cfg.read(ConfigSpace.INTERRUPT_LINE, 1)).isZero();
        assertThat(cfg.memoryEnabled()).isFalse();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {7, 1234})
    void randomWritesNeverChangeReadOnlyBytes(long seed) {
        System.out.println("ConfigSpaceTest seed " + seed);
        Random random = new Random(seed);
        byte[] before = new byte[ConfigSpace.SIZE];
        for (int i = 0; i < before.length; i++) {
            before[i] = (byte) cfg.read(i, 1);
        }
        int[] readOnly = {0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0A, 0x0B, 0x0E, 0x2C, 0x2D, 0x2E, 0x2F, 0x34, 0x3D,
                0xAC, 0xAD, 0xD0, 0xD1, 0xD2, 0xD3, 0x100, 0xFFF};
        for (int n = 0; n < 5000; n++) {
            int size = 1 << random.nextInt(4);
            int offset = random.nextInt(ConfigSpace.SIZE - size + 1);
            cfg.write(offset, size, random.nextLong());
        }
        for (int off : readOnly) {
            assertThat((byte) cfg.read(off, 1)).as("0x%x", off).isEqualTo(before[off]);
        }
        assertThat(cfg.read(ConfigSpace.BAR0, 4) & 0xFFFFFF).isEqualTo(4);
        assertThat(cfg.read(ConfigSpace.MSI_CONTROL, 2) & ~1).isZero();
    }
}
