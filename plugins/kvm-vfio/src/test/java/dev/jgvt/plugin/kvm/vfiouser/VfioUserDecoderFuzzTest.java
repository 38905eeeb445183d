package dev.jgvt.plugin.kvm.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;

/**
 * Jazzer fuzz target for the vfio-user decoder. In the normal build it replays the seed corpus in
 * {@code VfioUserDecoderFuzzTestInputs/decode} (messages taken from the libvfio-user transcript); run with
 * {@code JAZZER_FUZZ=1} to fuzz. The property: any byte string either decodes to a message that re-encodes
 * to exactly those bytes, or fails with {@link ErrorCode#PROTOCOL_ERROR} — never another exception.
 */
final class VfioUserDecoderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void decode(byte[] bytes) {
        // created here, not in a static field, so the codec's classes load after Jazzer's agent (coverage)
        VfioUserCodec codec = new VfioUserCodec(64 * 1024);
        Message m;
        try {
            m = codec.decode(bytes);
        } catch (GvtException e) {
            assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.PROTOCOL_ERROR);
            return;
        }
        assertThat(VfioUserCodec.encode(m)).isEqualTo(bytes);
    }
}
