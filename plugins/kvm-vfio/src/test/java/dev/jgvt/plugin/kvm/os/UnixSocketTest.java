package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class UnixSocketTest {
    private static final int RW = Libc.PROT_READ | Libc.PROT_WRITE;

    @Test
    void layoutsMatchX8664Glibc() {
        assertThat(UnixSocket.MSGHDR.byteSize()).isEqualTo(56);
        assertThat(UnixSocket.IOVEC.byteSize()).isEqualTo(16);
        assertThat(UnixSocket.CMSGHDR.byteSize()).isEqualTo(16);
        assertThat(UnixSocket.SOCKADDR_UN.byteSize()).isEqualTo(110);
        assertThat(UnixSocket.cmsgLen(4)).isEqualTo(20);
        assertThat(UnixSocket.cmsgSpace(4)).isEqualTo(24);
        assertThat(UnixSocket.cmsgSpace(12)).isEqualTo(32);
    }

    @Test
    void aMemfdPassedOverASocketpairIsMappedOnTheOtherSideAndSeesTheWrites() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1];
                SharedMemory mem = SharedMemory.create("guest-ram", 2 * 4096);
                SharedMemory.Mapping mine = mem.map(RW);
                Arena arena = Arena.ofConfined()) {
            a.send(arena.allocateFrom("DMA_MAP"), mem.fd());
            MemorySegment buf = arena.allocate(7);
            UnixSocket.Received r = b.receive(buf, 4, true);
            assertThat(r.bytes()).isEqualTo(7);
            assertThat(r.fds()).hasSize(1);
            assertThat(r.fds()[0]).isNotEqualTo(mem.fd());
            try (SharedMemory theirs = SharedMemory.adopt(r.fds()[0], 2 * 4096);
                    SharedMemory.Mapping view = theirs.map(RW)) {
                mine.segment().set(JAVA_LONG, 4096, 0xABCDEF01L);
                assertThat(view.segment().get(JAVA_LONG, 4096)).isEqualTo(0xABCDEF01L);
                view.segment().set(JAVA_LONG, 8, 77L);
                assertThat(mine.segment().get(JAVA_LONG, 8)).isEqualTo(77L);
            }
        }
    }

    @Test
    void severalFdsInOneMessageArriveInOrderAndWork() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1];
                EventFd e1 = EventFd.create(); EventFd e2 = EventFd.create(); EventFd e3 = EventFd.create();
                Arena arena = Arena.ofConfined()) {
            a.send(arena.allocateFrom(JAVA_BYTE, (byte) 1, (byte) 2), e1.fd(), e2.fd(), e3.fd());
            UnixSocket.Received r = b.receive(arena.allocate(2), 8, true);
            assertThat(r.fds()).hasSize(3);
            EventFd[] received = new EventFd[3];
            for (int i = 0; i < 3; i++) {
                received[i] = EventFd.adopt(r.fds()[i], true);
                received[i].signal(10 + i);
            }
            assertThat(e1.read()).isEqualTo(10);
            assertThat(e2.read()).isEqualTo(11);
            assertThat(e3.read()).isEqualTo(12);
            for (EventFd e : received) {
                e.close();
            }
        }
    }

    @Test
    void moreFdsThanTheControlBufferHoldsIsMsgCtruncAndAProtocolError() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1];
                EventFd e1 = EventFd.create(); EventFd e2 = EventFd.create(); EventFd e3 = EventFd.create();
                Arena arena = Arena.ofConfined()) {
            a.send(arena.allocate(1), e1.fd(), e2.fd(), e3.fd());
            assertThatThrownBy(() -> b.receive(arena.allocate(1), 1, true))
                    .isInstanceOfSatisfying(GvtException.class, g -> assertThat(g.code()).isEqualTo(ErrorCode.PROTOCOL_ERROR))
                    .hasMessageContaining("MSG_CTRUNC");
        }
    }

    @Test
    void oneFdMoreThanAcceptedFitsTheAlignedBufferButIsStillRefused() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1];
                EventFd e1 = EventFd.create(); EventFd e2 = EventFd.create(); Arena arena = Arena.ofConfined()) {
            a.send(arena.allocate(1), e1.fd(), e2.fd());
            assertThatThrownBy(() -> b.receive(arena.allocate(1), 1, true))
                    .isInstanceOfSatisfying(GvtException.class, g -> assertThat(g.code()).isEqualTo(ErrorCode.PROTOCOL_ERROR))
                    .hasMessage("recvmsg: the peer sent 2 fds, at most 1 accepted");
        }
    }

    @Test
    void aLargeMessageArrivesWhole() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; Arena arena = Arena.ofShared()) {
            MemorySegment big = arena.allocate(1 << 20);
            for (long i = 0; i < big.byteSize(); i += 8) {
                big.set(JAVA_LONG, i, i);
            }
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> a.send(big));
            MemorySegment in = arena.allocate(1 << 20);
            assertThat(b.receiveFully(in)).isEqualTo(1 << 20);
            sender.join();
            assertThat(in.mismatch(big)).isEqualTo(-1);
        }
    }

    @Test
    void peerCloseIsEndOfFileAndSendingToItIsEpipe() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; Arena arena = Arena.ofConfined()) {
            pair[1].close();
            assertThat(a.receive(arena.allocate(4), 0, true).bytes()).isZero();
            assertThatThrownBy(() -> a.send(arena.allocate(4))).hasMessage("sendmsg: EPIPE (errno 32)");
        }
    }

    @Test
    void listenAcceptConnectOnAPath(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("vfio-user.sock");
        try (UnixSocket.Listener listener = UnixSocket.Listener.bind(path, 4); Arena arena = Arena.ofShared()) {
            assertThat(Files.exists(path)).isTrue();
            CompletableFuture<UnixSocket> accepted = CompletableFuture.supplyAsync(listener::accept);
            try (UnixSocket client = UnixSocket.connect(path); UnixSocket server = accepted.get()) {
                client.send(arena.allocateFrom("ping"));
                MemorySegment buf = arena.allocate(5);
                assertThat(server.receive(buf, 0, true).bytes()).isEqualTo(5);
                assertThat(buf.getString(0)).isEqualTo("ping");
            }
            assertThatThrownBy(() -> UnixSocket.Listener.bind(path, 1)).isInstanceOfSatisfying(GvtException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
                assertThat(e.getMessage()).isEqualTo("socket path " + path + " cannot be bound: the address is in use (EADDRINUSE)");
            });
        }
        assertThat(Files.exists(path)).isFalse();
        assertThatThrownBy(() -> UnixSocket.connect(path)).hasMessage("cannot connect to " + path + ": connect: ENOENT (errno 2)");
    }
}
