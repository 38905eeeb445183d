package dev.jgvt.plugin.kvm.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceFeature;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.MigData;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.SparseMmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.Version;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden bytes: every message of a real libvfio-user client⇄server connection is decoded and re-encoded,
 * and the re-encoding must equal the original bytes. The transcript shows at most 96 payload bytes; for
 * the longer payloads (bulk data, the server's VERSION JSON) the unshown tail is completed as
 * {@link Transcript.Entry#fill()} says and the shown prefix must come back exactly as well.
 */
final class GoldenTranscriptTest {
    private static final VfioUserCodec CODEC = new VfioUserCodec();
    private static List<Transcript.Entry> entries;

    @BeforeAll
    static void load() throws IOException {
        entries = Transcript.load();
    }

    private static Transcript.Entry entry(int seq) {
        return entries.stream().filter(e -> e.seq() == seq).findFirst().orElseThrow();
    }

    private static Message decode(int seq) {
        return CODEC.decode(entry(seq).bytes());
    }

    @TestFactory
    Stream<DynamicTest> everyMessageDecodesAndReencodesToTheSameBytes() {
        return entries.stream().map(e -> DynamicTest.dynamicTest(e.label(), () -> {
            byte[] bytes = e.bytes();
            Message m = CODEC.decode(bytes);
            assertThat(m.header().id()).isEqualTo(e.id());
            assertThat(m.header().command()).isEqualTo(e.command());
            assertThat(Command.byNumber(e.command())).hasValueSatisfying(c -> assertThat(c.name()).isEqualTo(e.commandName()));
            assertThat(m.header().isReply()).isEqualTo(e.reply());
            assertThat(m.header().isError()).isEqualTo(e.error() != 0);
            byte[] again = VfioUserCodec.encode(m);
            assertThat(again).as("re-encoded bytes of " + e.label()).isEqualTo(bytes);
            byte[] shownAgain = Arrays.copyOfRange(again, 16, 16 + e.shownPayload().length);
            assertThat(shownAgain).isEqualTo(e.shownPayload());
        }));
    }

    @Test
    void theTranscriptIsTheWholeConnection() {
        assertThat(entries).hasSize(208);
        Map<String, Integer> perCommand = new TreeMap<>();
        for (Transcript.Entry e : entries) {
            perCommand.merge(e.commandName(), 1, Integer::sum);
        }
        assertThat(perCommand).containsEntry("DEVICE_GET_REGION_INFO", 20).containsEntry("DMA_MAP", 32)
                .containsEntry("MIG_DATA_READ", 50).hasSize(14);
    }

    @Test
    void versionCapabilitiesAreParsedFromBothSides() {
        Version client = (Version) decode(1).payload();
        assertThat(client.major()).isZero();
        assertThat(client.minor()).isEqualTo(2);
        assertThat(client.capabilities().maxMsgFds()).isEqualTo(32);
        assertThat(client.capabilities().maxDataXferSize()).isEqualTo(1024);
        assertThat(client.capabilities().pgsizes()).isEqualTo(Capabilities.DEFAULT_PGSIZES);
        Version server = (Version) decode(2).payload();
        assertThat(server.json()).contains(Transcript.SERVER_VERSION_JSON);
        assertThat(server.capabilities().maxMsgFds()).isEqualTo(8);
        assertThat(server.capabilities().maxDataXferSize()).isEqualTo(1 << 20);
        assertThat(server.capabilities().migration()).hasValueSatisfying(m -> assertThat(m.pgsize()).isEqualTo(4096));
    }

    @Test
    void errorReplyIsTheHeaderAlone() {
        Message m = decode(4);
        assertThat(m.header().size()).isEqualTo(16);
        assertThat(m.header().error()).isEqualTo(22);
        assertThat(m.payload()).isEqualTo(Payload.Empty.INSTANCE);
        RegionAccess bad = (RegionAccess) decode(3).payload();
        assertThat(bad.region()).isEqualTo(0xdeadbeef);
        assertThat(bad.count()).isEqualTo(4);
    }

    @Test
    void deviceInfoAndTheRegionInfoArgszDance() {
        assertThat(decode(6).payload()).isEqualTo(new DeviceInfo(16, 3, 9, 5));
        RegionInfo ask = (RegionInfo) decode(9).payload();
        assertThat(ask.index()).isEqualTo(1);
        assertThat(ask.argsz()).isEqualTo(32);
        RegionInfo grow = (RegionInfo) decode(10).payload();
        assertThat(grow.argsz()).isEqualTo(80);
        assertThat(grow.flags()).isEqualTo(7);
        assertThat(grow.caps()).isEmpty();
        Message again = decode(11);
        assertThat(again.header().size()).isEqualTo(96);
        assertThat(((RegionInfo) again.payload()).argsz()).isEqualTo(80);
        RegionInfo full = (RegionInfo) decode(12).payload();
        assertThat(full.flags()).isEqualTo(0xF);
        assertThat(full.size()).isEqualTo(0x3000);
        assertThat(full.capOffset()).isEqualTo(32);
        assertThat(full.caps()).containsExactly(new SparseMmap(1,
                List.of(new SparseMmap.Area(0, 0x1000), new SparseMmap.Area(0x2000, 0x1000))));
        assertThat(entry(12).fds()).isEqualTo(1);
    }

    @Test
    void configSpaceReadCarriesTheSampleIds() {
        RegionAccess r = (RegionAccess) decode(28).payload();
        assertThat(r.region()).isEqualTo(7);
        assertThat(r.count()).isEqualTo(64);
        ByteBuffer cfg = ByteBuffer.wrap(r.data()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(Short.toUnsignedInt(cfg.getShort(0))).isEqualTo(0xdead);
        assertThat(Short.toUnsignedInt(cfg.getShort(2))).isEqualTo(0xbeef);
        assertThat(Short.toUnsignedInt(cfg.getShort(0x2c))).isEqualTo(0xcafe);
        assertThat(Short.toUnsignedInt(cfg.getShort(0x2e))).isEqualTo(0xbabe);
    }

    @Test
    void dmaMapUnmapIrqsAndServerDma() {
        assertThat(decode(33).payload()).isEqualTo(new DmaMap(32, 3, 0x1000, 0x1000, 0x1000));
        assertThat(entry(33).fds()).isEqualTo(1);
        DmaUnmap u = (DmaUnmap) decode(134).payload();
        assertThat(u.address()).isEqualTo(0x1000);
        assertThat(u.size()).isEqualTo(0x1000);
        assertThat(decode(64).payload()).isEqualTo(new IrqInfo(16, 1, 0, 1));
        IrqSet set = (IrqSet) decode(73).payload();
        assertThat(set.flags()).isEqualTo(IrqSet.DATA_EVENTFD | IrqSet.ACTION_TRIGGER);
        assertThat(set.count()).isEqualTo(1);
        assertThat(set.data()).isEmpty();
        DmaAccess write = (DmaAccess) decode(83).payload();
        assertThat(write.address()).isEqualTo(0x400);
        assertThat(write.count()).isEqualTo(1024);
        assertThat(write.data()[0]).isEqualTo((byte) 'B');
        assertThat(decode(84).payload()).isInstanceOfSatisfying(DmaAccess.class, d -> assertThat(d.data()).isEmpty());
    }

    @Test
    void featureAndMigrationPayloads() {
        DeviceFeature report = (DeviceFeature) decode(100).payload();
        assertThat(report.flags()).isEqualTo((1 << 16) | 8);
        assertThat(report.data()).hasSize(32);
        assertThat(report.data()[24]).isEqualTo((byte) 1);
        MigData last = (MigData) decode(206).payload();
        assertThat(last.argsz()).isEqualTo(16);
        assertThat(last.size()).isEqualTo(8);
        assertThat(last.data()).hasSize(1024);
    }
}
