package dev.jgvt.plugin.kvm.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.SharedMemory;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.testing.fixtures.RecordingDeviceModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The request loop: no wake-ups while idle, posted writes, the DMA_MAP size rules, batched frames. */
final class ServerLoopTest {
    /** A fresh server on a fresh socket per test, closed after it. */
    @RegisterExtension
    final Served served = new Served();

    private RecordingDeviceModel device;
    private VfioUserServer server;
    private Path socket;

    static final class Served implements BeforeEachCallback, AfterEachCallback {
        private Path dir;
        RecordingDeviceModel device;
        VfioUserServer server;

        @Override
        public void beforeEach(ExtensionContext context) throws IOException {
            dir = Files.createTempDirectory("jgvt-loop");
            device = new RecordingDeviceModel();
            server = VfioUserServer.start("loop", dir.resolve("vgpu.sock"), device, () -> {});
            ServerLoopTest test = (ServerLoopTest) context.getRequiredTestInstance();
            test.device = device;
            test.server = server;
            test.socket = server.path();
        }

        @Override
        public void afterEach(ExtensionContext context) throws IOException {
            server.close();
            Files.deleteIfExists(dir);
        }
    }

    private final class Client implements AutoCloseable {
        final VfioUserChannel channel = new VfioUserChannel(UnixSocket.connect(socket), new VfioUserCodec(), 8);
        int id;

        Client version() {
            RawMessage r = call(Command.VERSION, new Payload.Version(0, 2, Optional.of("{}")));
            assertThat(r.header().isError()).isFalse();
            return this;
        }

        int send(Command c, Payload p, int flags, int... fds) {
            int mine = ++id & 0xFFFF;
            channel.send(new Message(new Header(mine, c.number(), Header.SIZE + p.length(), flags, 0), p), fds);
            return mine;
        }

        RawMessage call(Command c, Payload p, int... fds) {
            send(c, p, 0, fds);
            return channel.receiveRaw().orElseThrow();
        }

        @Override
        public void close() {
            channel.close();
        }
    }

    /** Voluntary context switches of the serving thread so far (each one is a sleep the thread woke from). */
    private long switches() throws IOException {
        int tid = server.servingThreadId();
        assertThat(tid).isPositive();
        for (String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        throw new AssertionError("no voluntary_ctxt_switches for thread " + tid);
    }

    @Test
    void theServingThreadSleepsWhileIdleWithAndWithoutAClient() throws Exception {
        Thread.sleep(100); // let the thread reach its first blocking wait
        long before = switches();
        Thread.sleep(1000);
        long withoutClient = switches() - before;
        try (Client c = new Client().version()) {
            Thread.sleep(100);
            before = switches();
            Thread.sleep(1000);
            long withClient = switches() - before;
            // a 50 ms poll would show about 20 wake-ups a second; a blocked thread shows none
            assertThat(withoutClient).as("wake-ups in an idle second without a client").isLessThanOrEqualTo(1);
            assertThat(withClient).as("wake-ups in an idle second with an idle client").isLessThanOrEqualTo(1);
        }
    }

    @Test
    void withTheOptInPollTheServingThreadServesAndStillSleepsWhileIdle() throws Exception {
        server.pollNanos(2_000_000); // 2 ms of polling before each blocking read (ADR 0017)
        try (Client c = new Client().version()) {
            for (int i = 0; i < 20; i++) {
                c.send(Command.REGION_WRITE, new RegionAccess(0x200, DeviceLayout.BAR0, 4, new byte[] {(byte) i, 0, 0, 0}),
                        Header.FLAG_NO_REPLY);
                RawMessage r = c.call(Command.REGION_READ, new RegionAccess(0x200, DeviceLayout.BAR0, 4));
                assertThat(r.header().isError()).isFalse();
                RegionAccess read = (RegionAccess) new VfioUserCodec().decodePayload(r.header(), r.payload());
                assertThat(read.data()).containsExactly(i, 0, 0, 0);
            }
            Thread.sleep(100); // past the poll budget: the thread is blocked now
            long before = switches();
            Thread.sleep(1000);
            assertThat(switches() - before).as("wake-ups in an idle second with polling on").isLessThanOrEqualTo(1);
        }
    }

    @Test
    void postedWritesAreNeverAnsweredAndRepliesKeepTheirOrder() {
        try (Client c = new Client().version()) {
            for (int i = 0; i < 50; i++) {
                c.send(Command.REGION_WRITE, new RegionAccess(0x100 + 4 * i, DeviceLayout.BAR0, 4, new byte[] {(byte) i, 0, 0, 0}),
                        Header.FLAG_NO_REPLY);
            }
            int readId = c.send(Command.REGION_READ, new RegionAccess(0x100 + 4 * 49, DeviceLayout.BAR0, 4), 0);
            RawMessage reply = c.channel.receiveRaw().orElseThrow();
            // the first message back answers the read: none of the 50 posted writes got a reply
            assertThat(reply.header().id()).isEqualTo(readId);
            assertThat(reply.header().command()).isEqualTo(Command.REGION_READ.number());
            RegionAccess read = (RegionAccess) new VfioUserCodec().decodePayload(reply.header(), reply.payload());
            assertThat(read.data()).containsExactly(49, 0, 0, 0);
            assertThat(device.accesses(DeviceLayout.BAR0)).hasSize(51);
        }
    }

    @Test
    void severalFramesInOneSendAreServedInOrder() {
        try (Client c = new Client().version()) {
            VfioUserCodec codec = new VfioUserCodec();
            byte[] a = VfioUserCodec.encode(new Message(new Header(7, Command.REGION_WRITE.number(), 36, 0, 0),
                    new RegionAccess(0x40, DeviceLayout.BAR0, 4, new byte[] {1, 2, 3, 4})));
            byte[] b = VfioUserCodec.encode(new Message(new Header(8, Command.REGION_READ.number(), 32, 0, 0),
                    new RegionAccess(0x40, DeviceLayout.BAR0, 4)));
            byte[] both = new byte[a.length + b.length];
            System.arraycopy(a, 0, both, 0, a.length);
            System.arraycopy(b, 0, both, a.length, b.length);
            {
                Client d = c;
                UnixSocket raw = rawOf(d);
                try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                    java.lang.foreign.MemorySegment s = arena.allocate(both.length);
                    s.copyFrom(java.lang.foreign.MemorySegment.ofArray(both));
                    // the first frame and 5 bytes of the second's header, then the rest
                    raw.send(s.asSlice(0, a.length + 5));
                    raw.send(s.asSlice(a.length + 5));
                }
                RawMessage first = d.channel.receiveRaw().orElseThrow();
                RawMessage second = d.channel.receiveRaw().orElseThrow();
                assertThat(first.header().id()).isEqualTo(7);
                assertThat(second.header().id()).isEqualTo(8);
                RegionAccess read = (RegionAccess) codec.decodePayload(second.header(), second.payload());
                assertThat(read.data()).containsExactly(1, 2, 3, 4);
            }
        }
    }

    private UnixSocket rawOf(Client c) {
        try {
            var f = VfioUserChannel.class.getDeclaredField("socket");
            f.setAccessible(true);
            return (UnixSocket) f.get(c.channel);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void dmaMapSizesThatCouldNotBeUnmappedAreRefusedWithAndWithoutAnFd() {
        try (Client c = new Client().version(); SharedMemory ram = SharedMemory.create("ram", 1 << 20)) {
            // without an fd: the case, 2^63 exactly, and a range wrapping past 2^64
            assertError(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0, 0xFFFF_FFFF_FFFF_F000L)), Errno.EINVAL);
            assertError(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0, Long.MIN_VALUE)), Errno.EINVAL);
            assertError(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0xFFFF_FFFF_FFFF_0000L, 0x2_0000)), Errno.EINVAL);
            // with an fd: the same, refused before any mmap
            assertError(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0, 0xFFFF_FFFF_FFFF_F000L), ram.fd()), Errno.EINVAL);
            assertError(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0, Long.MIN_VALUE), ram.fd()), Errno.EINVAL);
            assertError(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0xFFFF_FFFF_FFFF_0000L, 0x2_0000), ram.fd()), Errno.EINVAL);
            assertThat(server.iommu().mappings()).isEmpty();
            // the largest that can be unmapped: just below 2^63, at the top of the space
            long big = Long.MAX_VALUE - 4095;
            assertThat(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0x8000_0000_0000_0000L, big)).header().isError()).isFalse();
        }
        // the disconnect unmaps it and the device hears a non-negative length
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.connected() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(server.connected()).isFalse();
        assertThat(device.unmaps()).extracting(RecordingDeviceModel.Unmap::length).containsExactly(Long.MAX_VALUE - 4095);
        assertThat(server.iommu().mappings()).isEmpty();
    }

    private static void assertError(RawMessage m, int errno) {
        assertThat(m.header().isError()).as("error reply expected: %s", m.header()).isTrue();
        assertThat(m.header().error()).isEqualTo(errno);
    }
}
