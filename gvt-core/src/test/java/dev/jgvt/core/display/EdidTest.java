package dev.jgvt.core.display;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

final class EdidTest {
    @ParameterizedTest
    @CsvSource({"1024,768,6500", "1920,1200,15413"})
    void edidIsValidAndPrefersTheTypeResolution(int width, int height, int clock10k) {
        byte[] e = Edid.forResolution(width, height);
        assertThat(e).hasSize(128);
        assertThat(Edid.isValid(e, 128)).isTrue();
        int sum = 0;
        for (byte b : e) {
            sum += b & 0xFF;
        }
        assertThat(sum % 256).isZero();
        assertThat(e[18]).isEqualTo((byte) 1);
        assertThat(e[19]).isEqualTo((byte) 4);
        int dtd = 54;
        assertThat((e[dtd] & 0xFF) | (e[dtd + 1] & 0xFF) << 8).isEqualTo(clock10k);
        assertThat((e[dtd + 2] & 0xFF) | (e[dtd + 4] & 0xF0) << 4).isEqualTo(width);
        assertThat((e[dtd + 5] & 0xFF) | (e[dtd + 7] & 0xF0) << 4).isEqualTo(height);
        assertThat(new String(e, 72 + 5, 9, StandardCharsets.US_ASCII)).isEqualTo("jgvt vGPU");
        e[100] ^= 1;
        assertThat(Edid.isValid(e, 128)).isFalse();
    }

    @Test
    void edidRegionProtocol() {
        EdidRegion r = new EdidRegion(1920, 1200);
        assertThat(r.read(EdidRegion.EDID_OFFSET, 4)).isEqualTo(2048);
        assertThat(r.read(EdidRegion.EDID_MAX_SIZE, 4)).isEqualTo(128);
        assertThat(r.read(EdidRegion.EDID_SIZE, 4)).isEqualTo(128);
        assertThat(r.read(EdidRegion.MAX_YRES, 4)).isEqualTo(1200);
        assertThat(r.read(EdidRegion.LINK_STATE, 4)).isEqualTo(EdidRegion.LINK_UP);
        // VMM replaces the EDID: link down, blob, size, link up
        byte[] xga = Edid.forResolution(1024, 768);
        r.write(EdidRegion.LINK_STATE, 4, EdidRegion.LINK_DOWN);
        assertThat(r.edid()).isEmpty();
        for (int i = 0; i < 128; i += 8) {
            long v = 0;
            for (int j = 0; j < 8; j++) {
                v |= (xga[i + j] & 0xFFL) << (8 * j);
            }
            r.write(EdidRegion.BLOB_OFFSET + i, 8, v);
        }
        r.write(EdidRegion.EDID_SIZE, 4, 128);
        r.write(EdidRegion.LINK_STATE, 4, EdidRegion.LINK_UP);
        assertThat(r.edid()).isEqualTo(xga);
        // a broken blob is refused and the link stays as it was
        r.write(EdidRegion.LINK_STATE, 4, EdidRegion.LINK_DOWN);
        r.write(EdidRegion.BLOB_OFFSET + 5, 1, 0);
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> r.write(EdidRegion.LINK_STATE, 4, EdidRegion.LINK_UP));
        assertThat(r.linkUp()).isFalse();
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> r.write(EdidRegion.LINK_STATE, 4, 3));
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> r.write(EdidRegion.EDID_SIZE, 4, 129));
        assertCode(ErrorCode.PERMISSION_DENIED, () -> r.write(EdidRegion.MAX_XRES, 4, 1));
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> r.read(EdidRegion.EDID_SIZE, 2));
        assertCode(ErrorCode.INVALID_ARGUMENT, () -> r.read(2, 4));
        r.reset();
        assertThat(r.edid()).isEqualTo(Edid.forResolution(1920, 1200));
    }

    static void assertCode(ErrorCode code, org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(GvtException.class)
                .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(code));
    }

    @Test
    void opRegionHeader() {
        byte[] r = OpRegion.create();
        assertThat(r).hasSize(8192);
        assertThat(new String(r, 0, 16, StandardCharsets.US_ASCII)).isEqualTo("IntelGraphicsMem");
        assertThat(r[OpRegion.SIZE_FIELD]).isEqualTo((byte) 8);
        assertThat(r[OpRegion.VERSION_FIELD + 3]).isEqualTo((byte) 2);
        assertThat(r[OpRegion.MBOX_FIELD]).isEqualTo((byte) OpRegion.MBOX_VBT);
        assertThat(new String(r, OpRegion.VBT, 4, StandardCharsets.US_ASCII)).isEqualTo("$VBT");
        int vbtSize = (r[OpRegion.VBT + 0x18] & 0xFF) | (r[OpRegion.VBT + 0x19] & 0xFF) << 8;
        int sum = 0;
        for (int i = 0; i < vbtSize; i++) {
            sum += r[OpRegion.VBT + i] & 0xFF;
        }
        assertThat(sum & 0xFF).isZero();
        assertThat(new String(r, OpRegion.VBT + 0x30, 16, StandardCharsets.US_ASCII)).isEqualTo("BIOS_DATA_BLOCK ");
    }
}
