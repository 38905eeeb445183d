package dev.jgvt.plugin.kvm.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.PlaneInfo;
import dev.jgvt.testing.fixtures.RecordingDeviceModel;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The serving thread allocates nothing per small BAR access (a device that allocates nothing itself). */
final class TrapPathAllocationTest {
    @TempDir
    Path dir;

    /** Registers in an array: no allocation per access. */
    private static final class Registers implements DeviceModel {
        private final long[] bar0 = new long[1 << 16];

        @Override
        public DeviceLayout layout() {
            return RecordingDeviceModel.defaultLayout();
        }

        @Override
        public long read(int region, long offset, int size) {
            return bar0[(int) (offset >>> 3) & 0xFFFF];
        }

        @Override
        public void write(int region, long offset, int size, long value) {
            bar0[(int) (offset >>> 3) & 0xFFFF] = value;
        }

        @Override
        public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type) {
            return Optional.empty();
        }

        // no guest memory, no tracking, nothing to reset in this device
        @Override
        public void trackedWrite(long gpa, MemorySegment bytes) {}

        @Override
        public void dmaUnmapped(long iova, long length) {}

        @Override
        public void reset() {}
    }

    @Test
    void smallRegionAccessesAllocateNothingOnTheServingThread() throws Exception {
        Path socket = dir.resolve("alloc.sock");
        VfioUserServer server = VfioUserServer.start("alloc", socket, new Registers(), () -> {});
        try (VfioUserChannel c = new VfioUserChannel(UnixSocket.connect(socket), new VfioUserCodec(), 8)) {
            c.send(new Message(new Header(0, Command.VERSION.number(), 20 + 3, 0, 0), new Payload.Version(0, 2, Optional.of("{}"))));
            c.receiveRaw().orElseThrow();
            roundTrips(c, 30_000); // warm-up: the serving loop is compiled
            Thread serving = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("vfio-user alloc"))
                    .findFirst().orElseThrow();
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            // The least of a few rounds: on a loaded machine the JIT may still be compiling (or deoptimising)
            // the serving loop during one round; an allocation per message shows in every round.
            int n = 20_000;
            long perMessage = Long.MAX_VALUE;
            for (int round = 0; round < 5 && perMessage >= 8; round++) {
                long before = mx.getThreadAllocatedBytes(serving.threadId());
                roundTrips(c, n);
                perMessage = Math.min(perMessage, (mx.getThreadAllocatedBytes(serving.threadId()) - before) / (2L * n));
            }
            assertThat(perMessage).as("bytes allocated per message by the serving thread, least of up to 5 rounds")
                    .isLessThan(8);
        } finally {
            server.close();
        }
    }

    private static void roundTrips(VfioUserChannel c, int n) {
        for (int i = 0; i < n; i++) {
            c.send(new Message(new Header(i & 0xFFFF, Command.REGION_WRITE.number(), 36, 0, 0),
                    new RegionAccess(0x100, DeviceLayout.BAR0, 4, new byte[] {(byte) i, 0, 0, 0})));
            c.receiveRaw().orElseThrow();
            c.send(new Message(new Header(i & 0xFFFF, Command.REGION_READ.number(), 32, 0, 0), new RegionAccess(0x100, DeviceLayout.BAR0, 4)));
            c.receiveRaw().orElseThrow();
        }
    }
}
