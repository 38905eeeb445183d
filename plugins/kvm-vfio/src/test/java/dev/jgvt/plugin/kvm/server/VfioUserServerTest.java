package dev.jgvt.plugin.kvm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.EventFd;
import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.os.SharedMemory;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.vfiouser.Capabilities;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.PageTracking;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackedWrite;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TypeCap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMulti;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMultiReply;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteRecord;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.plugin.kvm.vmm.ReferenceVmm;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PageTracker;
import dev.jgvt.testing.fixtures.RecordingDeviceModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vfio-user server over a real socket: every command, every kind of malformed input, clients in sequence. */
final class VfioUserServerTest {
    @TempDir
    Path dir;

    private RecordingDeviceModel device;
    private VfioUserServer server;
    private Path socket;

    @BeforeEach
    void start() {
        device = new RecordingDeviceModel();
        socket = dir.resolve("vgpu.sock");
        server = VfioUserServer.start("test", socket, device, () -> {});
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** A raw client: sends messages or arbitrary bytes, reads replies without interpretation. */
    private final class Raw implements AutoCloseable {
        final UnixSocket sock = UnixSocket.connect(socket);
        final VfioUserChannel channel = new VfioUserChannel(sock, new VfioUserCodec(), 8);
        int id;

        Raw version(String json) {
            RawMessage r = call(Command.VERSION, new Payload.Version(0, 2, Optional.ofNullable(json)));
            assertThat(r.header().isError()).as("VERSION reply %s", r.header()).isFalse();
            return this;
        }

        Raw version() {
            return version("{\"capabilities\":{\"max_msg_fds\":8}}");
        }

        RawMessage call(Command c, Payload p, int... fds) {
            return callNumber(c.number(), p, fds);
        }

        RawMessage callNumber(int command, Payload p, int... fds) {
            channel.send(new Message(new Header(++id & 0xFFFF, command, Header.SIZE + p.length(), 0, 0), p), fds);
            return channel.receiveRaw().orElseThrow(() -> new AssertionError("the server closed the connection"));
        }

        Payload decode(RawMessage m) {
            return new VfioUserCodec().decodePayload(m.header(), m.payload());
        }

        void sendBytes(byte[] bytes) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(bytes.length);
                MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
                sock.send(s);
            }
        }

        /** True when the server closed the connection (end of stream). */
        boolean closedByServer() {
            try {
                return channel.receiveRaw().isEmpty();
            } catch (GvtException e) {
                return true;
            }
        }

        @Override
        public void close() {
            channel.close();
        }
    }

    private static void assertError(RawMessage m, int errno) {
        assertThat(m.header().isError()).as("error reply expected: %s", m.header()).isTrue();
        assertThat(m.header().error()).as("errno of %s", m.header()).isEqualTo(errno);
        assertThat(m.payload()).isEmpty();
    }

    private void assertServesNextClient() {
        try (Raw c = new Raw()) {
            c.version();
            DeviceInfo info = (DeviceInfo) c.decode(c.call(Command.DEVICE_GET_INFO, new DeviceInfo(16, 0, 0, 0)));
            assertThat(info.numRegions()).isEqualTo(10);
        }
    }

    private static byte[] header(int id, int command, long size, int flags) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) id).putShort((short) command).putInt((int) size).putInt(flags).putInt(0);
        return b.array();
    }

    // ------------------------------------------------------------------ VERSION

    @Test
    void aPathThatCannotBeBoundIsAnInvalidArgumentNamingThePath() {
        // procfs takes no sockets: bind fails with ENOENT even for root
        Path proc = Path.of("/proc/jgvt-test.sock");
        assertThatThrownBy(() -> VfioUserServer.start("proc", proc, new RecordingDeviceModel(), () -> {}))
                .isInstanceOfSatisfying(GvtException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains(proc.toString()).contains("ENOENT").doesNotContain("\n");
                });
    }

    @Test
    void aClientThatConnectsWhileAnotherIsServedIsRefusedAtOnceWithEbusy() {
        try (Raw first = new Raw()) {
            first.version();
            long start = System.nanoTime();
            try (Raw second = new Raw()) {
                assertError(second.call(Command.VERSION, new Payload.Version(0, 2, Optional.empty())), Errno.EBUSY);
                assertThat(second.closedByServer()).as("the refused client is disconnected").isTrue();
            }
            assertThatThrownBy(() -> ReferenceVmm.connect(socket, ReferenceVmm.Options.of(1 << 20)))
                    .isInstanceOfSatisfying(GvtException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BUSY);
                        assertThat(e.getMessage()).isEqualTo("the server at " + socket + " is serving another VMM");
                    });
            assertThat(System.nanoTime() - start).as("refused without waiting for the first client").isLessThan(3_000_000_000L);
            DeviceInfo info = (DeviceInfo) first.decode(first.call(Command.DEVICE_GET_INFO, new DeviceInfo(16, 0, 0, 0)));
            assertThat(info.numRegions()).as("the first client is served on").isEqualTo(10);
            assertThat(server.refused()).isEqualTo(2);
            assertThat(server.clients()).isEqualTo(1);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.connected() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertServesNextClient();
        assertThat(server.clients()).isEqualTo(2);
    }

    @Test
    void disconnectEndsTheClientFirstAndTheServicesStayUntilClose() {
        try (ReferenceVmm vmm = ReferenceVmm.connect(socket, ReferenceVmm.Options.of(1 << 20))) {
            assertThat(vmm.configRead(0, 2)).isNotZero();
            server.disconnect();
            assertThat(server.connected()).as("the client is gone when disconnect returns").isFalse();
            assertThat(device.unmaps()).as("its regions are dropped").isNotEmpty();
            assertThatThrownBy(() -> vmm.configRead(0, 2)).isInstanceOfSatisfying(GvtException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_STATE);
                assertThat(e.getMessage()).isEqualTo("the connection to the server at " + socket + " is gone: the server closed it");
            });
            // the binding is still attached: guest memory is empty, signals are dropped, nothing throws ILLEGAL_STATE
            assertThatThrownBy(() -> server.memory().readLong(0)).isInstanceOfSatisfying(GvtException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_MAPPED));
            server.interrupts().signalMsi();
            assertThat(socket).as("no client is accepted any more").doesNotExist();
        }
    }

    @Test
    void versionIsParsedTolerantlyAndAnsweredWithOurCapabilities() {
        try (Raw c = new Raw()) {
            RawMessage r = c.call(Command.VERSION, new Payload.Version(0, 7, Optional.of(
                    " {\n \"capabilities\" : { \"max_msg_fds\" : 32 , \"unknown\" : [1, {\"x\": null}], \"max_data_xfer_size\": 1024 } ,\"other\":true}\t")));
            Payload.Version v = (Payload.Version) c.decode(r);
            assertThat(v.major()).isZero();
            assertThat(v.minor()).isEqualTo(2);
            Capabilities caps = v.capabilities();
            assertThat(caps.maxMsgFds()).isEqualTo(8);
            assertThat(caps.writeMultiple()).isTrue();
            assertThat(caps.extra()).doesNotContainKey(PageTracking.CAPABILITY);
        }
    }

    @Test
    void versionWithoutJsonUsesDefaults() {
        try (Raw c = new Raw()) {
            Payload.Version v = (Payload.Version) c.decode(c.call(Command.VERSION, new Payload.Version(0, 0, Optional.empty())));
            assertThat(v.minor()).isZero();
        }
        assertServesNextClient();
    }

    @Test
    void commandBeforeVersionIsRefusedAndTheClientDropped() {
        try (Raw c = new Raw()) {
            assertError(c.call(Command.DEVICE_GET_INFO, new DeviceInfo(16, 0, 0, 0)), Errno.EINVAL);
            assertThat(c.closedByServer()).isTrue();
        }
        assertServesNextClient();
    }

    @Test
    void wrongMajorBadJsonAndFdsOnVersionAreRefused() throws Exception {
        try (Raw c = new Raw()) {
            assertError(c.call(Command.VERSION, new Payload.Version(1, 0, Optional.empty())), Errno.EINVAL);
            assertThat(c.closedByServer()).isTrue();
        }
        try (Raw c = new Raw()) {
            byte[] json = "{\"capabilities\":".getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(16 + 4 + json.length + 1).order(ByteOrder.LITTLE_ENDIAN);
            b.put(header(1, 1, 16 + 4 + json.length + 1, 0)).putShort((short) 0).putShort((short) 2).put(json).put((byte) 0);
            c.sendBytes(b.array());
            assertError(c.channel.receiveRaw().orElseThrow(), Errno.EINVAL);
            assertThat(c.closedByServer()).isTrue();
        }
        try (Raw c = new Raw(); EventFd e = EventFd.create()) {
            assertError(c.call(Command.VERSION, new Payload.Version(0, 2, Optional.empty()), e.fd()), Errno.EINVAL);
        }
        try (Raw c = new Raw()) {
            c.version();
            assertError(c.call(Command.VERSION, new Payload.Version(0, 2, Optional.empty())), Errno.EINVAL);
            c.call(Command.DEVICE_GET_INFO, new DeviceInfo(16, 0, 0, 0));
        }
        assertServesNextClient();
    }

    // ------------------------------------------------------------------ broken streams

    @Test
    void shortHeaderThenDisconnectLeavesTheServerServing() {
        try (Raw c = new Raw()) {
            c.version();
            c.sendBytes(new byte[] {1, 0, 4});
        }
        assertServesNextClient();
    }

    @Test
    void lyingSizeTruncatedMessageAndAbruptDisconnect() {
        try (Raw c = new Raw()) {
            c.version();
            byte[] h = header(5, Command.REGION_WRITE.number(), 16 + 16 + 100, 0);
            c.sendBytes(h);
            c.sendBytes(new byte[20]);
        }
        assertServesNextClient();
    }

    @Test
    void oversizeMessageDropsTheClient() {
        try (Raw c = new Raw()) {
            c.version();
            c.sendBytes(header(5, Command.REGION_WRITE.number(), 64L << 20, 0));
            assertThat(c.closedByServer()).isTrue();
        }
        assertServesNextClient();
    }

    @Test
    void badHeaderFlagsDropTheClient() {
        try (Raw c = new Raw()) {
            c.version();
            c.sendBytes(header(5, Command.DEVICE_GET_INFO.number(), 16, 0x4000));
            assertThat(c.closedByServer()).isTrue();
        }
        assertServesNextClient();
    }

    // ------------------------------------------------------------------ errors that keep the connection

    @Test
    void unknownCommandsGetEinvalAndTheConnectionGoesOn() {
        try (Raw c = new Raw()) {
            c.version();
            assertError(c.callNumber(99, Payload.Empty.INSTANCE), Errno.EINVAL);
            assertError(c.callNumber(14, Payload.Empty.INSTANCE), Errno.EINVAL);
            assertError(c.callNumber(PageTracking.TRACKED_WRITE, new TrackedWrite(0, 0, new byte[4])), Errno.EINVAL);
            assertError(c.call(Command.DMA_READ, new Payload.DmaAccess(0, 8)), Errno.EINVAL);
            assertError(c.call(Command.DEVICE_FEATURE, new Payload.DeviceFeature(8, 1 << 18, new byte[0])), Errno.ENOTSUP);
            assertThat(c.call(Command.DEVICE_GET_INFO, new DeviceInfo(16, 0, 0, 0)).header().isError()).isFalse();
        }
    }

    @Test
    void malformedPayloadsGetEinval() {
        try (Raw c = new Raw()) {
            c.version();
            c.sendBytes(concat(header(7, Command.REGION_READ.number(), 16 + 8, 0), new byte[8]));
            assertError(c.channel.receiveRaw().orElseThrow(), Errno.EINVAL);
            c.sendBytes(concat(header(8, Command.DEVICE_GET_INFO.number(), 16 + 4, 0), new byte[4]));
            assertError(c.channel.receiveRaw().orElseThrow(), Errno.EINVAL);
            assertError(c.call(Command.DEVICE_GET_INFO, new DeviceInfo(8, 0, 0, 0)), Errno.EINVAL);
            assertThat(c.call(Command.DEVICE_GET_INFO, new DeviceInfo(16, 0, 0, 0)).header().isError()).isFalse();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void badRegionIndicesOffsetsAndCounts() {
        try (Raw c = new Raw()) {
            c.version();
            assertError(c.call(Command.REGION_READ, new RegionAccess(0, 0xdeadbeef, 4)), Errno.EINVAL);
            assertError(c.call(Command.REGION_READ, new RegionAccess(0, 3, 4)), Errno.EINVAL);
            assertError(c.call(Command.REGION_READ, new RegionAccess(RecordingDeviceModel.CONFIG_SIZE - 2, 7, 4)), Errno.EINVAL);
            assertError(c.call(Command.REGION_READ, new RegionAccess(-8, 0, 4)), Errno.EINVAL);
            assertError(c.call(Command.REGION_READ, new RegionAccess(0, 0, 0)), Errno.EINVAL);
            assertError(c.call(Command.REGION_WRITE, new RegionAccess(0, RecordingDeviceModel.READ_ONLY_REGION, 4, new byte[4])),
                    Errno.EPERM);
            assertError(c.call(Command.DEVICE_GET_REGION_INFO, new RegionInfo(32, 0, 10, 0, 0, java.util.List.of())), Errno.EINVAL);
            assertError(c.call(Command.DEVICE_GET_IRQ_INFO, new IrqInfo(16, 0, 5, 0)), Errno.EINVAL);
            assertThat(device.accesses()).isEmpty();
        }
    }

    @Test
    void extraAndMissingFds() throws Exception {
        try (Raw c = new Raw(); EventFd a = EventFd.create(); EventFd b = EventFd.create(); SharedMemory ram = SharedMemory.create("r", 1 << 16)) {
            c.version();
            assertError(c.call(Command.REGION_READ, new RegionAccess(0, 7, 4), a.fd()), Errno.EINVAL);
            assertError(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0x10000, 0x1000), ram.fd(), a.fd()), Errno.EINVAL);
            assertError(c.call(Command.DEVICE_SET_IRQS, new IrqSet(20, IrqSet.DATA_EVENTFD | IrqSet.ACTION_TRIGGER, 1, 0, 1, new byte[0]),
                    a.fd(), b.fd()), Errno.EINVAL);
            assertThat(server.iommu().mappings()).isEmpty();
            // no fd on SET_IRQS EVENTFD is a de-assign, which is fine
            assertThat(c.call(Command.DEVICE_SET_IRQS, new IrqSet(20, IrqSet.DATA_EVENTFD | IrqSet.ACTION_TRIGGER, 1, 0, 1, new byte[0]))
                    .header().isError()).isFalse();
        }
    }

    // ------------------------------------------------------------------ device commands

    @Test
    void deviceRegionAndIrqInfo() {
        try (Raw c = new Raw()) {
            c.version();
            DeviceInfo info = (DeviceInfo) c.decode(c.call(Command.DEVICE_GET_INFO, new DeviceInfo(16, 0, 0, 0)));
            assertThat(info.flags()).isEqualTo(3);
            assertThat(info.numIrqs()).isEqualTo(5);
            RegionInfo bar0 = (RegionInfo) c.decode(c.call(Command.DEVICE_GET_REGION_INFO, new RegionInfo(32, 0, 0, 0, 0, java.util.List.of())));
            assertThat(bar0.size()).isEqualTo(RecordingDeviceModel.BAR0_SIZE);
            assertThat(bar0.flags()).isEqualTo(RegionInfo.FLAG_READ | RegionInfo.FLAG_WRITE);
            RegionInfo missing = (RegionInfo) c.decode(c.call(Command.DEVICE_GET_REGION_INFO, new RegionInfo(32, 0, 1, 0, 0, java.util.List.of())));
            assertThat(missing.size()).isZero();
            RegionInfo small = (RegionInfo) c.decode(c.call(Command.DEVICE_GET_REGION_INFO,
                    new RegionInfo(32, 0, RecordingDeviceModel.READ_ONLY_REGION, 0, 0, java.util.List.of())));
            assertThat(small.argsz()).isEqualTo(48);
            assertThat(small.caps()).isEmpty();
            assertThat(small.flags() & RegionInfo.FLAG_CAPS).isZero();
            RegionInfo full = (RegionInfo) c.decode(c.call(Command.DEVICE_GET_REGION_INFO,
                    new RegionInfo(48, 0, RecordingDeviceModel.READ_ONLY_REGION, 0, 0, java.util.List.of())));
            assertThat(full.flags()).isEqualTo(RegionInfo.FLAG_READ | RegionInfo.FLAG_CAPS);
            assertThat(full.caps()).containsExactly(new TypeCap(1, 0x80008086, 1));
            IrqInfo msi = (IrqInfo) c.decode(c.call(Command.DEVICE_GET_IRQ_INFO, new IrqInfo(16, 0, 1, 0)));
            assertThat(msi.count()).isEqualTo(1);
            assertThat(msi.flags()).isEqualTo(1 | 8);
            IrqInfo msix = (IrqInfo) c.decode(c.call(Command.DEVICE_GET_IRQ_INFO, new IrqInfo(16, 0, 2, 0)));
            assertThat(msix.count()).isZero();
        }
    }

    @Test
    void regionReadsAndWritesReachTheDeviceInNaturalPieces() {
        try (Raw c = new Raw()) {
            c.version();
            byte[] data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
            assertThat(c.call(Command.REGION_WRITE, new RegionAccess(0x103, DeviceLayout.BAR0, data.length, data)).header().isError()).isFalse();
            assertThat(device.accesses(DeviceLayout.BAR0)).extracting(RecordingDeviceModel.Access::offset, RecordingDeviceModel.Access::size)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(0x103L, 1), org.assertj.core.groups.Tuple.tuple(0x104L, 4),
                            org.assertj.core.groups.Tuple.tuple(0x108L, 8));
            RegionAccess read = (RegionAccess) c.decode(c.call(Command.REGION_READ, new RegionAccess(0x103, DeviceLayout.BAR0, data.length)));
            assertThat(read.data()).isEqualTo(data);
            WriteMultiReply multi = (WriteMultiReply) c.decode(c.call(Command.REGION_WRITE_MULTI, new WriteMulti(java.util.List.of(
                    new WriteRecord(0x200, DeviceLayout.BAR0, 4, 0x11223344L), new WriteRecord(0x208, DeviceLayout.BAR0, 8, -2L)))));
            assertThat(multi.count()).isEqualTo(2);
            assertThat(device.read(DeviceLayout.BAR0, 0x200, 4)).isEqualTo(0x11223344L);
            assertThat(device.read(DeviceLayout.BAR0, 0x208, 8)).isEqualTo(-2L);
            assertThat(c.call(Command.DEVICE_RESET, Payload.Empty.INSTANCE).header().isError()).isFalse();
            assertThat(device.resets()).isEqualTo(1);
        }
    }

    // ------------------------------------------------------------------ DMA, interrupts, disconnect

    @Test
    void fdBackedRamIsGuestMemoryAndDisconnectDropsItButKeepsDeviceState() throws Exception {
        try (Raw c = new Raw(); SharedMemory ram = SharedMemory.create("ram", 1 << 20);
                SharedMemory.Mapping view = ram.map(Libc.PROT_READ | Libc.PROT_WRITE); EventFd msi = EventFd.create()) {
            c.version();
            view.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, 0x2008, 0x1122334455667788L);
            assertThat(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0x100000, 1 << 20), ram.fd()).header().isError()).isFalse();
            assertError(c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0x180000, 1 << 20), ram.fd()), Errno.EEXIST);
            assertThat(server.memory().readLong(0x102008)).isEqualTo(0x1122334455667788L);
            server.memory().writeLong(0x103000, 42);
            assertThat(view.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 0x3000)).isEqualTo(42);
            c.call(Command.DEVICE_SET_IRQS, new IrqSet(20, IrqSet.DATA_EVENTFD | IrqSet.ACTION_TRIGGER, 1, 0, 1, new byte[0]), msi.fd());
            server.interrupts().signalMsi();
            assertThat(msi.tryRead()).hasValue(1);
            c.call(Command.REGION_WRITE, new RegionAccess(0x40, DeviceLayout.BAR0, 4, new byte[] {9, 9, 9, 9}));
            assertError(c.call(Command.DMA_UNMAP, new DmaUnmap(24, 0, 0x100000, 0x1000)), Errno.ENOENT);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.connected() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(device.unmaps()).extracting(RecordingDeviceModel.Unmap::iova).contains(0x100000L);
        assertThatThrownBy(() -> server.memory().readLong(0x102008)).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_MAPPED));
        long dropped = server.interrupts().droppedSignals();
        server.interrupts().signalMsi();
        assertThat(server.interrupts().droppedSignals()).isEqualTo(dropped + 1);
        assertThat(device.read(DeviceLayout.BAR0, 0x40, 4)).as("device state survives the client").isEqualTo(0x09090909L);
        assertServesNextClient();
        assertThat(server.clients()).isEqualTo(2);
    }

    @Test
    void fdLessRegionsAreServedByDmaMessagesFromAnyThread() throws Exception {
        try (ReferenceVmm vmm = ReferenceVmm.connect(socket, ReferenceVmm.Options.of(1 << 20).withFd(false).withRegionBytes(1 << 18))) {
            MemorySegment src = MemorySegment.ofArray(new byte[5000]);
            for (int i = 0; i < 5000; i++) {
                src.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            vmm.ramWrite(0x3ff00, src);
            byte[] back = new byte[5000];
            CompletableFuture.runAsync(() -> server.memory().read(0x3ff00, MemorySegment.ofArray(back))).get();
            assertThat(back).isEqualTo(src.toArray(ValueLayout.JAVA_BYTE));
            server.memory().writeLong(0x80000, 77);
            assertThat(vmm.ramReadLong(0x80000)).isEqualTo(77);
            assertThat(server.memory().isBacked(0x80)).isTrue();
            assertThatThrownBy(() -> server.pages().pin(0x80, 1, dev.jgvt.spi.GuestPages.Access.READ))
                    .isInstanceOfSatisfying(GvtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR));
            // on the server thread, inside a device call: the server reads the socket itself while waiting
            device.onUnmap((iova, length) -> {});
            vmm.client().request(Command.DMA_UNMAP, new DmaUnmap(24, 0, 0, 1 << 18));
            assertThat(device.unmaps()).extracting(RecordingDeviceModel.Unmap::iova).contains(0L);
            assertThat(server.memory().isBacked(0)).isFalse();
        }
    }

    /**
     * A device thread waiting for its DMA_READ reply while the serving thread keeps answering the client: the reply
     * the serving thread routes must end the wait at once, not when the call times out (the serving thread used to
     * take the read lock back before the queued waiter could, so the waiter saw its reply only after 5 s).
     */
    @Test
    void dmaRepliesReachTheirWaiterWhileTheServingThreadIsBusy() throws Exception {
        try (ReferenceVmm vmm = ReferenceVmm.connect(socket, ReferenceVmm.Options.of(1 << 20).withFd(false).withRegionBytes(1 << 18))) {
            vmm.ramWriteLong(0x1000, 0x1234_5678_9ABCL);
            readsStayPrompt(500); // a quiet client: only the serving thread reads the socket
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread busy = Thread.ofPlatform().name("client-traffic").start(() -> {
                while (!stop.get()) {
                    vmm.configRead(0, 2);
                }
            });
            try {
                readsStayPrompt(2000); // the serving thread busy with the client's own traffic
            } finally {
                stop.set(true);
                busy.join(5000);
            }
        }
    }

    private void readsStayPrompt(int reads) throws Exception {
        long slowest = 0;
        for (int i = 0; i < reads; i++) {
            long t0 = System.nanoTime();
            long value = CompletableFuture.supplyAsync(() -> server.memory().readLong(0x1000)).get();
            slowest = Math.max(slowest, System.nanoTime() - t0);
            assertThat(value).isEqualTo(0x1234_5678_9ABCL);
            assertThat(slowest).as("slowest DMA_READ round trip after %d reads (ns)", i + 1).isLessThan(2_000_000_000L);
        }
    }

    // ------------------------------------------------------------------ page tracking

    @Test
    void pageTrackingOverTheExtension() {
        try (ReferenceVmm vmm = ReferenceVmm.connect(socket, ReferenceVmm.Options.of(1 << 20))) {
            assertThat(vmm.pageTracking()).isTrue();
            PageTracker tracker = server.tracker().orElseThrow();
            tracker.track(5);
            tracker.track(5);
            assertThat(vmm.protectedFrames()).isEqualTo(1);
            vmm.ramWriteLong(5 * 4096 + 8, 0xABCDL);
            vmm.ramWriteLong(6 * 4096, 1);
            assertThat(device.trackedWrites()).hasSize(1);
            assertThat(device.trackedWrites().getFirst().gpa()).isEqualTo(5 * 4096 + 8);
            tracker.untrack(5);
            assertThat(vmm.protectedFrames()).isEqualTo(1);
            tracker.untrack(5);
            assertThat(vmm.protectedFrames()).isZero();
            assertThatThrownBy(() -> tracker.track(1 << 20)).isInstanceOfSatisfying(GvtException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_MAPPED));
            // a malformed tracked write (crossing a frame) is refused with EINVAL, the connection stays
            assertThatThrownBy(() -> vmm.client().requestRaw(PageTracking.TRACKED_WRITE, new TrackedWrite(4096 - 2, 0, new byte[4]), false))
                    .isInstanceOfSatisfying(GvtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            assertThat(vmm.configRead(0, 2)).isEqualTo(RecordingDeviceModel.VENDOR_ID);
            assertThat(device.trackedWrites()).hasSize(1);
        }
    }

    /**
     * A thread holding what the server thread waits for (here: a lock the device takes while serving a client
     * command, as the core's vGPU lock) can still get its TRACK_SET reply: it reads the socket itself.
     */
    @Test
    void aCommandFromAThreadTheServerThreadWaitsForDoesNotDeadlock() throws Exception {
        try (ReferenceVmm vmm = ReferenceVmm.connect(socket, ReferenceVmm.Options.of(1 << 20))) {
            PageTracker tracker = server.tracker().orElseThrow();
            tracker.track(5);
            java.util.concurrent.locks.ReentrantLock deviceLock = new java.util.concurrent.locks.ReentrantLock();
            java.util.concurrent.CountDownLatch inDevice = new java.util.concurrent.CountDownLatch(1);
            device.onTrackedWrite((gpa, bytes) -> {
                inDevice.countDown();
                deviceLock.lock();
                deviceLock.unlock();
            });
            deviceLock.lock();
            Thread guest;
            try {
                guest = Thread.ofPlatform().start(() -> vmm.ramWriteLong(5 * 4096, 1));
                assertThat(inDevice.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                long t0 = System.nanoTime();
                tracker.track(7);
                assertThat(System.nanoTime() - t0).as("TRACK_SET round trip while the server thread waits").isLessThan(2_000_000_000L);
                assertThat(vmm.protectedFrames()).isEqualTo(2);
            } finally {
                deviceLock.unlock();
            }
            guest.join(5000);
            assertThat(device.trackedWrites()).hasSize(1);
            tracker.untrack(7);
            assertThat(vmm.protectedFrames()).isEqualTo(1);
        }
    }

    @Test
    void withoutTheExtensionTrackingFailsTypedAndTheRestWorks() {
        try (ReferenceVmm vmm = ReferenceVmm.connect(socket, ReferenceVmm.Options.of(1 << 20).withPageTracking(false))) {
            assertThat(vmm.pageTracking()).isFalse();
            assertThatThrownBy(() -> server.tracker().orElseThrow().track(5)).isInstanceOfSatisfying(GvtException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
                assertThat(e.getMessage()).contains("x-jgvt-page-tracking");
            });
            vmm.ramWriteLong(5 * 4096, 3);
            assertThat(server.memory().readLong(5 * 4096)).isEqualTo(3);
            assertThat(vmm.configRead(0, 2)).isEqualTo(RecordingDeviceModel.VENDOR_ID);
        }
    }

    @Test
    void trackSetToAClientThatVanishesFailsTyped() throws Exception {
        ReferenceVmm vmm = ReferenceVmm.connect(socket, ReferenceVmm.Options.of(1 << 20));
        vmm.close();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.connected() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThatThrownBy(() -> server.tracker().orElseThrow().track(5)).isInstanceOf(GvtException.class);
        assertServesNextClient();
    }

    @Test
    void detachClosesTheSocketAndRefusesServices() {
        ReferenceVmm vmm = ReferenceVmm.connect(socket, ReferenceVmm.Options.of(1 << 20));
        server.close();
        assertThat(socket).doesNotExist();
        assertThatThrownBy(() -> server.memory()).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_STATE));
        vmm.close();
    }

    @Test
    void existingPathIsRefused() {
        assertThatThrownBy(() -> VfioUserServer.start("again", socket, device, () -> {}))
                .isInstanceOfSatisfying(GvtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS));
        assertThatThrownBy(() -> VfioUserServer.start("nodir", dir.resolve("no/such.sock"), device, () -> {}))
                .isInstanceOfSatisfying(GvtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }
}
