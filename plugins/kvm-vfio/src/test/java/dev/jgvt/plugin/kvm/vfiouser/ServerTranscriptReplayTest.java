package dev.jgvt.plugin.kvm.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.plugin.kvm.os.EventFd;
import dev.jgvt.plugin.kvm.os.SharedMemory;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.server.VfioUserServer;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.PlaneInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays the client side of the libvfio-user transcript, byte for byte, against this server serving a
 * device shaped like libvfio-user's sample server (8-byte BAR0, 3-page BAR1, 256-byte config space with its
 * IDs, INTx), from the first VERSION up to the first DEVICE_FEATURE (which this server does not support).
 * Every reply must match the recorded one in id, command, flags and errno; payloads match byte for byte
 * except where this server documents a different answer: its VERSION capabilities, BAR1 without mmappable
 * areas (no fd could back them: every access is trapped), and interrupt indices the device does not have
 * (count 0 with no flags, where the sample server reports EVENTFD).
 */
final class ServerTranscriptReplayTest {
    @TempDir
    Path dir;

    /** The sample server's shape; config space is the 64 bytes the transcript shows it returning. */
    private static final class SampleDevice implements DeviceModel {
        final byte[] config = new byte[256];
        final byte[] bar0 = new byte[8];
        final byte[] bar1 = new byte[0x3000];
        int resets;

        SampleDevice(byte[] config64) {
            System.arraycopy(config64, 0, config, 0, 64);
        }

        @Override
        public DeviceLayout layout() {
            var rw = EnumSet.of(DeviceLayout.Flag.READ, DeviceLayout.Flag.WRITE);
            return new DeviceLayout(0xdead, 0xbeef, List.of(
                    new DeviceLayout.Region(0, "bar0", 8, rw, List.of(), 0, 0),
                    new DeviceLayout.Region(1, "bar1", 0x3000, rw, List.of(new DeviceLayout.Area(0, 0x1000), new DeviceLayout.Area(0x2000, 0x1000)), 0, 0),
                    new DeviceLayout.Region(7, "config", 256, rw, List.of(), 0, 0)),
                    List.of(new DeviceLayout.Irq(DeviceLayout.IRQ_INTX, 1)));
        }

        private byte[] bytes(int region) {
            return switch (region) {
                case 0 -> bar0;
                case 1 -> bar1;
                default -> config;
            };
        }

        @Override
        public long read(int region, long offset, int size) {
            long v = 0;
            for (int i = 0; i < size; i++) {
                v |= (bytes(region)[(int) offset + i] & 0xFFL) << (8 * i);
            }
            return v;
        }

        @Override
        public void write(int region, long offset, int size, long value) {
            for (int i = 0; i < size; i++) {
                bytes(region)[(int) offset + i] = (byte) (value >>> (8 * i));
            }
        }

        @Override
        public void trackedWrite(long gpa, MemorySegment bytes) {}

        @Override
        public void dmaUnmapped(long iova, long length) {}

        @Override
        public void reset() {
            resets++;
        }

        @Override
        public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type) {
            return Optional.empty();
        }
    }

    @Test
    void theRecordedClientGetsTheRecordedAnswers() throws Exception {
        List<Transcript.Entry> all = Transcript.load();
        List<Transcript.Entry> phase = new ArrayList<>();
        for (Transcript.Entry e : all) {
            if (!e.reply() && e.command() == Command.DEVICE_FEATURE.number()) {
                break;
            }
            phase.add(e);
        }
        byte[] configReply = phase.stream().filter(e -> e.reply() && e.command() == Command.REGION_READ.number() && e.error() == 0)
                .findFirst().orElseThrow().fill();
        SampleDevice device = new SampleDevice(Arrays.copyOfRange(configReply, 16, 80));
        Path socket = dir.resolve("sample.sock");
        int replayed = 0;
        List<String> documentedDifferences = new ArrayList<>();
        try (VfioUserServer server = VfioUserServer.start("sample", socket, device, () -> {});
                SharedMemory file16 = SharedMemory.create("dma", 16 * 4096);
                UnixSocket client = UnixSocket.connect(socket);
                VfioUserChannel channel = new VfioUserChannel(client, new VfioUserCodec(), 8)) {
            for (int i = 0; i < phase.size(); i++) {
                Transcript.Entry request = phase.get(i);
                if (request.reply() || !request.direction().equals("C->S")) {
                    continue;
                }
                Transcript.Entry expected = phase.get(i + 1);
                assertThat(expected.reply()).as("entry after %s", request.label()).isTrue();
                List<EventFd> eventfds = new ArrayList<>();
                int[] fds = new int[request.fds()];
                for (int f = 0; f < fds.length; f++) {
                    if (request.command() == Command.DMA_MAP.number()) {
                        fds[f] = file16.fd();
                    } else {
                        EventFd e = EventFd.create();
                        eventfds.add(e);
                        fds[f] = e.fd();
                    }
                }
                byte[] bytes = request.bytes();
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment s = arena.allocate(bytes.length);
                    MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
                    client.send(s, fds);
                }
                eventfds.forEach(EventFd::close);
                RawMessage reply = channel.receiveRaw().orElseThrow();
                String what = request.label() + " -> " + expected.label();
                assertThat(reply.header().id()).as(what).isEqualTo(expected.id());
                assertThat(reply.header().command()).as(what).isEqualTo(expected.command());
                assertThat(reply.header().flags()).as(what).isEqualTo(expected.flags());
                assertThat(reply.header().error()).as(what).isEqualTo(expected.error());
                byte[] want = expected.fill();
                byte[] got = reply.payload();
                String difference = documentedDifference(request, want, got);
                if (difference != null) {
                    documentedDifferences.add(request.seq() + ": " + difference);
                } else {
                    assertThat(HexFormat.of().formatHex(got)).as(what).isEqualTo(HexFormat.of().formatHex(want));
                }
                replayed++;
            }
        }
        assertThat(replayed).as("client commands replayed").isEqualTo(37);
        assertThat(device.resets).isEqualTo(1);
        assertThat(documentedDifferences).as("documented differences").hasSize(7); // VERSION, BAR1 asked twice, irq indices 1-4
    }

    /** Null when the payloads must be identical; otherwise checks this server's documented answer and names it. */
    private static String documentedDifference(Transcript.Entry request, byte[] want, byte[] got) {
        int command = request.command();
        if (command == Command.VERSION.number()) {
            assertThat(Arrays.copyOf(got, 4)).as("VERSION major/minor").isEqualTo(Arrays.copyOf(want, 4));
            return "VERSION capabilities are this server's";
        }
        byte[] shown = request.fill();
        if (command == Command.DEVICE_GET_REGION_INFO.number() && shown[8] == 1) {
            // BAR1: READ|WRITE, size 0x3000, offset 0, no MMAP flag, no caps, no fd
            assertThat(HexFormat.of().formatHex(got)).isEqualTo("2000000003000000010000000000000000300000000000000000000000000000");
            return "BAR1 is trapped (no SPARSE_MMAP)";
        }
        if (command == Command.DEVICE_GET_IRQ_INFO.number() && shown[8] != 0) {
            assertThat(HexFormat.of().formatHex(got)).isEqualTo("10000000" + "00000000" + HexFormat.of().formatHex(shown, 8, 12) + "00000000");
            return "irq index " + shown[8] + " absent";
        }
        return null;
    }
}
