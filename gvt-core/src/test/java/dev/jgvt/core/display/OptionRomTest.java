package dev.jgvt.core.display;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class OptionRomTest {
    @Test
    void theImageIsAValidVgaRomCarryingTheVbt() {
        byte[] rom = OptionRom.build(0x8086, 0x1912, Vbt.build());
        assertThat(OptionRomTestSupport.check(rom)).isEmpty();
        assertThat(rom[3] & 0xFF).as("entry point: a far return").isEqualTo(0xCB);
    }

    @Test
    void theVbtDescribesOneExternalDpPortAndHasTheDocumentedSizes() {
        byte[] vbt = Vbt.build();
        assertThat(OptionRomTestSupport.checkVbt(vbt)).isEmpty();
        assertThat(OptionRomTestSupport.u16(vbt, 48 + 16)).as("BDB version").isEqualTo(Vbt.BDB_VERSION);
        assertThat(new String(vbt, 0, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("$VBT");
    }

    @Test
    void aVbtTooLargeForTheRomIsRefused() {
        assertThatThrownBy(() -> OptionRom.build(0x8086, 0x1912, new byte[OptionRom.SIZE]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not fit");
    }
}
