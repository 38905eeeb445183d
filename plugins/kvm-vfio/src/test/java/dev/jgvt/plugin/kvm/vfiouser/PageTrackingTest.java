package dev.jgvt.plugin.kvm.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackedWrite;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The page-tracking extension's payloads: layout, round trip, and every rule of the strict decoders. */
final class PageTrackingTest {
    private static byte[] bytes(Payload p) {
        ByteBuffer b = ByteBuffer.allocate(p.length()).order(ByteOrder.LITTLE_ENDIAN);
        p.write(b);
        return b.array();
    }

    private static void protocolError(Runnable r, String fragment) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(GvtException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_ERROR);
            assertThat(e.getMessage()).contains(fragment);
        });
    }

    @Test
    void trackSetLayoutAndRoundTrip() {
        TrackSet set = TrackSet.request(true, 0x12345, 7);
        assertThat(HexFormat.of().formatHex(bytes(set))).isEqualTo(
                "20000000" + "01000000" + "02000000" + "00000000" + "4523010000000000" + "0700000000000000");
        assertThat(PageTracking.decodeTrackSet(bytes(set), false, "t")).isEqualTo(set);
        TrackSet reply = set.reply();
        assertThat(bytes(reply)).hasSize(16);
        assertThat(PageTracking.decodeTrackSet(bytes(reply), true, "t")).isEqualTo(reply);
    }

    @Test
    void trackSetRules() {
        protocolError(() -> PageTracking.decodeTrackSet(bytes(new TrackSet(24, 3, 1, new long[] {1})), false, "t"), "flags");
        protocolError(() -> PageTracking.decodeTrackSet(bytes(new TrackSet(16, 1, 0, new long[0])), false, "t"), "count");
        protocolError(() -> PageTracking.decodeTrackSet(bytes(new TrackSet(24, 1, 513, new long[0])), true, "t"), "count");
        protocolError(() -> PageTracking.decodeTrackSet(bytes(new TrackSet(32, 1, 1, new long[] {1})), false, "t"), "argsz");
        protocolError(() -> PageTracking.decodeTrackSet(bytes(new TrackSet(32, 1, 2, new long[] {1})), false, "t"), "gfn[1]");
        protocolError(() -> PageTracking.decodeTrackSet(bytes(new TrackSet(24, 1, 1, new long[] {1, 2})), false, "t"), "");
        byte[] reserved = bytes(TrackSet.request(false, 1));
        reserved[12] = 1;
        protocolError(() -> PageTracking.decodeTrackSet(reserved, false, "t"), "reserved");
        protocolError(() -> PageTracking.decodeTrackSet(new byte[12], false, "t"), "reserved");
    }

    @Test
    void trackedWriteLayoutAndRules() {
        TrackedWrite w = new TrackedWrite(0x5008, 0, new byte[] {1, 2, 3, 4});
        assertThat(HexFormat.of().formatHex(bytes(w))).isEqualTo("0850000000000000" + "04000000" + "00000000" + "01020304");
        assertThat(PageTracking.decodeTrackedWrite(bytes(w), "w")).isEqualTo(w);
        assertThat(PageTracking.decodeTrackedWrite(bytes(new TrackedWrite(0x5000, 0, new byte[4096])), "w").data()).hasSize(4096);
        protocolError(() -> PageTracking.decodeTrackedWrite(bytes(new TrackedWrite(0x5ffe, 0, new byte[4])), "w"), "crosses");
        protocolError(() -> PageTracking.decodeTrackedWrite(bytes(new TrackedWrite(0x5000, 1, new byte[4])), "w"), "flags");
        protocolError(() -> PageTracking.decodeTrackedWrite(bytes(new TrackedWrite(0x5000, 0, new byte[0])), "w"), "count");
        protocolError(() -> PageTracking.decodeTrackedWrite(bytes(new TrackedWrite(0x5000, 0, new byte[4097])), "w"), "count");
        byte[] lying = bytes(w);
        lying[8] = 8;
        protocolError(() -> PageTracking.decodeTrackedWrite(lying, "w"), "data");
        protocolError(() -> PageTracking.decodeTrackedWrite(new byte[15], "w"), "flags");
    }

    @Test
    void offerIsReadFromTheCapabilitiesTolerantly() {
        Capabilities with = Capabilities.parse("{\"capabilities\":{\"x-jgvt-page-tracking\":{\"version\":3,\"max_frames\":64,\"future\":1}}}");
        assertThat(PageTracking.offer(with)).contains(new PageTracking.Offer(3, 64));
        assertThat(PageTracking.offer(Capabilities.parse("{\"capabilities\":{\"x-jgvt-page-tracking\":{\"version\":1}}}")))
                .contains(new PageTracking.Offer(1, 1));
        assertThat(PageTracking.offer(Capabilities.parse("{\"capabilities\":{\"x-jgvt-page-tracking\":true}}"))).isEmpty();
        assertThat(PageTracking.offer(Capabilities.parse("{\"capabilities\":{\"x-jgvt-page-tracking\":{\"version\":0}}}"))).isEmpty();
        assertThat(PageTracking.offer(Capabilities.DEFAULTS)).isEmpty();
        Capabilities back = Capabilities.parse(new Capabilities(8, 1 << 20, 65535, 4096, Optional.empty(), Optional.empty(), false,
                Map.of(PageTracking.CAPABILITY, new PageTracking.Offer(1, 512).toJson())).toJson());
        assertThat(PageTracking.offer(back)).contains(new PageTracking.Offer(1, 512));
    }
}
