package dev.jgvt.plugin.kvm.vfiouser;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.iommu.SoftIommu;
import dev.jgvt.plugin.kvm.os.EventFd;
import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.os.SharedMemory;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pieces a vfio-user server will be made of, working together over a real socketpair: a client
 * sends DMA_MAP with a memfd, the receiving side maps the fd into the software IOMMU and reads/writes the
 * client's RAM; overlap and unmap results travel back as replies. (There is no server yet; the test
 * plays both ends.)
 */
final class VfioUserChannelTest {
    private static final int RW = Libc.PROT_READ | Libc.PROT_WRITE;
    private final VfioUserCodec codec = new VfioUserCodec();
    private final UnixSocket[] pair = UnixSocket.pair();
    private final VfioUserChannel client = new VfioUserChannel(pair[0], codec, 8);
    private final VfioUserChannel server = new VfioUserChannel(pair[1], codec, 8);

    @AfterEach
    void close() {
        client.close();
        server.close();
    }

    @Test
    void dmaMapWithAMemfdLetsTheOtherSideReachGuestRamThroughTheIommu() {
        SoftIommu iommu = new SoftIommu();
        try (SharedMemory ram = SharedMemory.create("guest-ram", 64 * 1024);
                SharedMemory.Mapping vmm = ram.map(RW);
                Arena arena = Arena.ofConfined()) {
            vmm.segment().set(JAVA_LONG, 0x2000 + 8, 0xFEEDL);
            client.send(Message.command(0x1234, Command.DMA_MAP,
                    new DmaMap(32, DmaMap.FLAG_READ | DmaMap.FLAG_WRITE, 0x1000, 0x10_0000, 0x8000)), ram.fd());

            VfioUserChannel.Received req = server.receive().orElseThrow();
            DmaMap map = (DmaMap) req.message().payload();
            assertThat(req.fds()).hasSize(1);
            SharedMemory theirs = SharedMemory.adopt(req.fds()[0], map.offset() + map.size());
            SharedMemory.Mapping mapping = theirs.map(RW);
            theirs.close();
            iommu.map(map.address(), map.size(), map.flags(), mapping.segment().asSlice(map.offset(), map.size()));
            server.send(Message.reply(req.message().header(), Payload.Empty.INSTANCE));

            Message ack = client.receive().orElseThrow().message();
            assertThat(ack.header().isReply()).isTrue();
            assertThat(ack.header().id()).isEqualTo(0x1234);

            MemorySegment buf = arena.allocate(8);
            iommu.dmaRw(0x10_1008, buf, false);
            assertThat(buf.get(JAVA_LONG, 0)).isEqualTo(0xFEEDL);
            buf.set(JAVA_LONG, 0, 0xBEEFL);
            iommu.dmaRw(0x10_7000, buf, true);
            assertThat(vmm.segment().get(JAVA_LONG, 0x8000)).isEqualTo(0xBEEFL);

            // an overlapping map is answered with the IOMMU's errno in an error reply
            client.send(Message.command(0x1235, Command.DMA_MAP, new DmaMap(32, 3, 0, 0x10_4000, 0x1000)), ram.fd());
            VfioUserChannel.Received dup = server.receive().orElseThrow();
            DmaMap again = (DmaMap) dup.message().payload();
            for (int fd : dup.fds()) {
                Libc.close(fd);
            }
            try {
                iommu.map(again.address(), again.size(), again.flags(), arena.allocate(0x1000, 0x1000));
            } catch (IommuException e) {
                server.send(Message.errorReply(dup.message().header(), e.errno()));
            }
            Message err = client.receive().orElseThrow().message();
            assertThat(err.header().isError()).isTrue();
            assertThat(err.header().error()).isEqualTo(17);
            assertThat(VfioUserCodec.encode(err)).hasSize(16);

            client.send(Message.command(0x1236, Command.DMA_UNMAP, new DmaUnmap(24, 0, 0x10_0000, 0x8000)));
            Message unmapReq = server.receive().orElseThrow().message();
            DmaUnmap u = (DmaUnmap) unmapReq.payload();
            assertThat(iommu.unmap(u.address(), u.size(), u.flags())).isEqualTo(0x8000);
            mapping.close();
            server.send(Message.reply(unmapReq.header(), u));
            assertThat(client.receive().orElseThrow().message().payload()).isEqualTo(u);
        }
    }

    @Test
    void anEventfdBoundWithSetIrqsSignalsTheClient() {
        try (EventFd irq = EventFd.create()) {
            client.send(Message.command(7, Command.DEVICE_SET_IRQS,
                    new IrqSet(20, IrqSet.DATA_EVENTFD | IrqSet.ACTION_TRIGGER, 1, 0, 1, new byte[0])), irq.fd());
            VfioUserChannel.Received req = server.receive().orElseThrow();
            try (EventFd serverSide = EventFd.adopt(req.fds()[0], true)) {
                serverSide.signal();
            }
            assertThat(irq.read()).isEqualTo(1);
        }
    }

    @Test
    void pipelinedMessagesArriveInOrderAndACleanCloseIsEmpty() {
        for (int id = 0; id < 20; id++) {
            client.send(Message.command(id, Command.DEVICE_RESET, Payload.Empty.INSTANCE));
        }
        for (int id = 0; id < 20; id++) {
            assertThat(server.receive().orElseThrow().message().header().id()).isEqualTo(id);
        }
        client.shutdown();
        assertThat(server.receive()).isEmpty();
    }

    @Test
    void aPeerThatClosesInsideAMessageIsAProtocolError() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) 1).putShort((short) 9).putInt(32).putInt(0).putInt(0).putLong(0);
            MemorySegment seg = arena.allocate(24);
            seg.copyFrom(MemorySegment.ofArray(b.array()));
            pair[0].send(seg);
            pair[0].shutdown();
            assertThatThrownBy(server::receiveRaw).isInstanceOfSatisfying(GvtException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_ERROR);
                assertThat(e.getMessage()).isEqualTo("truncated message: header.size 32 but the peer closed after 24 bytes");
            });
        }
    }

    @Test
    void aBadPayloadStillLeavesTheHeaderForAnErrorReply() {
        client.send(new Message(new Header(9, 2, 24, 0, 0), new Payload.Opaque(new byte[8])));
        Optional<VfioUserChannel.RawMessage> raw = server.receiveRaw();
        VfioUserChannel.RawMessage r = raw.orElseThrow();
        assertThatThrownBy(() -> codec.decodePayload(r.header(), r.payload())).isInstanceOf(GvtException.class)
                .hasMessageContaining("DMA_MAP request id 9");
        server.send(Message.errorReply(r.header(), 22));
        Message reply = client.receive().orElseThrow().message();
        assertThat(List.of(reply.header().id(), reply.header().error())).containsExactly(9, 22);
    }
}
