package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Encodings checked against the Gen9 formats field by field: type, opcode, length, flags, addresses. */
final class CommandsTest {
    private static int type(int header) {
        return header >>> 29;
    }

    private static int miOpcode(int header) {
        return (header >>> 23) & 0x3F;
    }

    private static int blitOpcode(int header) {
        return (header >>> 22) & 0x7F;
    }

    /** MI and 2D commands: DW0 bits 7:0 (MI 5:0 for most) hold the length minus two. */
    private static void lengthMatches(int[] command, int lengthMask) {
        assertThat((command[0] & lengthMask) + 2).isEqualTo(command.length);
    }

    @Test
    void singleDwordMiCommands() {
        assertThat(Commands.noop()).containsExactly(0);
        assertThat(miOpcode(Commands.userInterrupt()[0])).isEqualTo(0x02);
        assertThat(miOpcode(Commands.arbCheck()[0])).isEqualTo(0x05);
        assertThat(Commands.batchBufferEnd()).containsExactly(0x0500_0000);
    }

    @Test
    void batchBufferStartCarriesTheAddressSpaceAnd48BitAddress() {
        int[] ggtt = Commands.batchBufferStart(0x0012_3000L, false);
        int[] ppgtt = Commands.batchBufferStart(0x80_0000_1000L, true);
        assertThat(ggtt).containsExactly(0x1880_0001, 0x0012_3000, 0);
        assertThat(ppgtt).containsExactly(0x1880_0101, 0x1000, 0x80);
    }

    @Test
    void storesAndPostSyncWrites() {
        int[] sdi = Commands.storeDataImm(0x1_0000_0010L, true, 0xCAFE);
        assertThat(miOpcode(sdi[0])).isEqualTo(0x20);
        assertThat(sdi[0] & (1 << 22)).isNotZero();
        lengthMatches(sdi, 0x3FF);
        assertThat(sdi).endsWith(0x10, 1, 0xCAFE);
        assertThat(Commands.storeDataImm(0x10, false, 1)[0] & (1 << 22)).isZero();

        int[] flush = Commands.flushDwStore(0x2008, true, 5);
        assertThat(miOpcode(flush[0])).isEqualTo(0x26);
        assertThat((flush[0] >>> 14) & 3).as("post-sync op").isEqualTo(1);
        lengthMatches(flush, 0x3F);
        assertThat(flush).endsWith(0x2008 | 4, 0, 5);
        assertThatThrownBy(() -> Commands.flushDwStore(0x2004, true, 5)).hasMessageContaining("8-aligned");
        assertThat(Commands.flushDwStore(0x2008, true, 5, true)[0] & (1 << 8)).as("notify").isNotZero();
        assertThat(flush[0] & (1 << 8)).isZero();

        int[] pc = Commands.pipeControlStore(0x3000, false, 7, 8);
        assertThat(pc[0]).isEqualTo(0x7A00_0004);
        assertThat((pc[1] >>> 14) & 3).isEqualTo(1);
        assertThat(pc[1] & (1 << 24)).as("GGTT").isZero();
        assertThat(pc[1] & ((1 << 21) | (1 << 23))).as("no store-index, no MMIO write").isZero();
        assertThat(pc).endsWith(0x3000, 0, 7, 8);
        assertThat(Commands.pipeControlStore(0x3000, true, 7, 8)[1] & (1 << 24)).isNotZero();
        assertThat(pc[1] & (1 << 8)).isZero();
        assertThat(Commands.pipeControlStore(0x3000, true, 7, 8, true)[1] & (1 << 8)).as("notify").isNotZero();
    }

    @Test
    void registerCommands() {
        int[] lri = Commands.loadRegisterImm(0x21F0, 1, 0x2600, 2);
        assertThat(lri).containsExactly(0x1100_0003, 0x21F0, 1, 0x2600, 2);
        int[] srm = Commands.storeRegisterMem(0x21F0, 0x4000, true);
        assertThat(srm).containsExactly(0x1240_0002, 0x21F0, 0x4000, 0);
        assertThatThrownBy(() -> Commands.loadRegisterImm(1)).hasMessageContaining("pairs");
    }

    @Test
    void blits() {
        int[] fill = Commands.colorBlt(0x1_0000_0000L, 2560, 10, 20, 30, 40, 0xFFD000);
        assertThat(type(fill[0])).isEqualTo(2);
        assertThat(blitOpcode(fill[0])).isEqualTo(0x50);
        lengthMatches(fill, 0xFF);
        assertThat(fill[0] & (3 << 20)).as("write RGB and alpha").isEqualTo(3 << 20);
        assertThat(fill[1]).isEqualTo((3 << 24) | (0xF0 << 16) | 2560);
        assertThat(fill).endsWith((20 << 16) | 10, (60 << 16) | 40, 0, 1, 0xFFD000);

        int[] copy = Commands.srcCopyBlt(0x1000, 256, 1, 2, 3, 4, 0x2_0000_8000L, 512, 5, 6);
        assertThat(blitOpcode(copy[0])).isEqualTo(0x53);
        lengthMatches(copy, 0xFF);
        assertThat(copy[1]).isEqualTo((3 << 24) | (0xCC << 16) | 256);
        assertThat(copy).endsWith((2 << 16) | 1, (6 << 16) | 4, 0x1000, 0, (6 << 16) | 5, 512, 0x8000, 2);

        int[] fast = Commands.fastCopyBlt(0x1000, 256, 0, 0, 8, 8, 0x9000, 256, 0, 0);
        assertThat(blitOpcode(fast[0])).isEqualTo(0x42);
        assertThat(fast[0] & ((3 << 13) | (3 << 20))).as("linear surfaces").isZero();
        assertThat((fast[1] >>> 24) & 7).as("32 bpp").isEqualTo(3);
        lengthMatches(fast, 0xFF);

        int[] setup = Commands.setupBlt(0x1000, 256, 0);
        assertThat(blitOpcode(setup[0])).isEqualTo(0x01);
        lengthMatches(setup, 0xFF);
        assertThatThrownBy(() -> Commands.colorBlt(0, 256, -1, 0, 1, 1, 0)).hasMessageContaining("out of range");
    }
}
