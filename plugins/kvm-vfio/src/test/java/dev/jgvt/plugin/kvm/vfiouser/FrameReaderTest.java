package dev.jgvt.plugin.kvm.vfiouser;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.plugin.kvm.os.MessageIo;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** {@link FrameReader#hasBufferedFrame()}: whether the next frame needs the socket at all. */
final class FrameReaderTest {
    private static final java.lang.foreign.ValueLayout.OfInt LE_INT = JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.foreign.ValueLayout.OfShort LE_SHORT = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Writes a header of {@code size} bytes (payload zero) with {@code flags} at {@code at}. */
    private static void frame(MemorySegment s, long at, int id, int size, int flags) {
        s.set(LE_SHORT, at, (short) id);
        s.set(LE_SHORT, at + 2, (short) Command.DMA_READ.number());
        s.set(LE_INT, at + 4, size);
        s.set(LE_INT, at + 8, flags);
    }

    @Test
    void twoFramesReadTogetherLeaveTheSecondBuffered() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; Arena arena = Arena.ofConfined();
                FrameReader reader = new FrameReader(new MessageIo(b, 4), 1 << 20)) {
            int first = Header.SIZE + 8;
            int second = Header.SIZE + 16;
            MemorySegment bytes = arena.allocate(first + second + Header.SIZE);
            frame(bytes, 0, 1, first, Header.TYPE_COMMAND);
            frame(bytes, first, 2, second, Header.TYPE_REPLY);
            assertThat(reader.hasBufferedFrame()).as("nothing read yet").isFalse();
            a.send(bytes.asSlice(0, first + second));
            assertThat(reader.next()).isTrue();
            assertThat(reader.id()).isEqualTo(1);
            reader.consume();
            assertThat(reader.hasBufferedFrame()).as("the reply came in with the command").isTrue();
            assertThat(reader.next()).isTrue();
            assertThat(reader.id()).isEqualTo(2);
            reader.consume();
            assertThat(reader.hasBufferedFrame()).isFalse();
            // half a frame buffered: the socket is still needed
            frame(bytes, 0, 3, first, Header.TYPE_COMMAND);
            a.send(bytes.asSlice(0, Header.SIZE));
            a.send(bytes.asSlice(Header.SIZE, first - Header.SIZE));
            assertThat(reader.next()).isTrue();
            reader.consume();
            frame(bytes, 0, 4, first, Header.TYPE_COMMAND);
            frame(bytes, first, 5, 0x7fff_ffff, Header.TYPE_COMMAND); // refused header: next() reports it without reading
            a.send(bytes.asSlice(0, first + Header.SIZE));
            assertThat(reader.next()).isTrue();
            reader.consume();
            assertThat(reader.hasBufferedFrame()).as("a header next() refuses").isTrue();
        }
    }
}
