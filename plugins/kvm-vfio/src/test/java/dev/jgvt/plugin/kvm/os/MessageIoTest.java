package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.spi.GvtException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link MessageIo}: recvmsg/sendmsg through syscall(2), the fds that ride along, and the bounded poll before blocking. */
final class MessageIoTest {
    @Test
    void bytesAndFdsGoThroughAndEndOfStreamIsZero() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; EventFd e = EventFd.create(); Arena arena = Arena.ofConfined();
                MessageIo out = new MessageIo(a, 4); MessageIo in = new MessageIo(b, 4)) {
            a.send(arena.allocateFrom("with-fd"), e.fd());
            MemorySegment buf = arena.allocate(64);
            assertThat(in.receive(buf, 0, 64)).isEqualTo(8);
            assertThat(in.fdCount()).isEqualTo(1);
            Libc.rawClose(in.fd(0));
            MemorySegment reply = arena.allocateFrom("reply");
            out.send(reply, 0, reply.byteSize());
            assertThat(in.receive(buf, 8, 56)).isEqualTo(6);
            assertThat(buf.getString(8)).isEqualTo("reply");
            assertThat(in.fdCount()).isZero();
            a.close();
            assertThat(in.receive(buf, 0, 64)).isZero();
        }
    }

    /** The common calls do not capture errno; a failed call is repeated with it captured, so failures keep their errno. */
    @Test
    void failedCallsReportTheirErrno() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; Arena arena = Arena.ofConfined(); MessageIo out = new MessageIo(a, 4)) {
            MemorySegment bytes = arena.allocateFrom("to nobody");
            pair[1].close();
            assertThatThrownBy(() -> out.send(bytes, 0, bytes.byteSize())).isInstanceOf(GvtException.class)
                    .hasMessage("sendmsg: EPIPE (errno 32)");
        }
        UnixSocket[] other = UnixSocket.pair();
        try (UnixSocket b = other[1]; Arena arena = Arena.ofConfined(); MessageIo in = new MessageIo(other[0], 4)) {
            other[0].close(); // the fd is gone under the message I/O
            assertThatThrownBy(() -> in.receive(arena.allocate(64), 0, 64)).isInstanceOf(GvtException.class)
                    .hasMessage("recvmsg: EBADF (errno 9)");
        }
    }

    @Test
    void buffersAreCheckedAndAClosedMessageIoRefusesCalls() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; Arena arena = Arena.ofConfined()) {
            MessageIo io = new MessageIo(a, 4);
            MemorySegment buf = arena.allocate(64);
            assertThatThrownBy(() -> io.receive(buf, 60, 8)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> io.send(buf, 0, 65)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(io.sendArea().byteSize()).isEqualTo(MessageIo.SEND_AREA_SIZE);
            io.close();
            io.close();
            assertThatThrownBy(() -> io.receive(buf, 0, 64)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
            assertThatThrownBy(() -> io.send(buf, 0, 8)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }

    @Test
    void aPollingReceiveGetsBytesThatArriveWhileItPolls() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; Arena arena = Arena.ofShared(); MessageIo in = new MessageIo(b, 4)) {
            MemorySegment buf = arena.allocate(64);
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                sleep(20);
                a.send(arena.allocateFrom("late"));
            });
            // a poll budget far longer than the sender's delay: the bytes are taken by a non-blocking call
            assertThat(in.receive(buf, 0, 64, TimeUnit.SECONDS.toNanos(5))).isEqualTo(5);
            assertThat(buf.getString(0)).isEqualTo("late");
            sender.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPollingReceiveBlocksOnceItsBudgetIsSpent() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; Arena arena = Arena.ofShared(); MessageIo in = new MessageIo(b, 4)) {
            MemorySegment buf = arena.allocate(64);
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                sleep(100);
                a.send(arena.allocateFrom("after"));
            });
            long t0 = System.nanoTime();
            // 1 ms of polling, then the blocking call waits for the bytes sent after 100 ms
            assertThat(in.receive(buf, 0, 64, TimeUnit.MILLISECONDS.toNanos(1))).isEqualTo(6);
            assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(90));
            assertThat(buf.get(JAVA_BYTE, 0)).isEqualTo((byte) 'a');
            sender.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPollingReceiveSeesThePeerClose() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket b = pair[1]; Arena arena = Arena.ofConfined(); MessageIo in = new MessageIo(b, 4)) {
            pair[0].close();
            assertThat(in.receive(arena.allocate(16), 0, 16, TimeUnit.MILLISECONDS.toNanos(10))).isZero();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
