package dev.jgvt.plugin.kvm.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PlaneInfo;
import dev.jgvt.testing.fixtures.RecordingDeviceModel;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trap path (a small REGION_READ/WRITE decoded in the receive buffer and served after the read lock is let go):
 * the values of 1- to 8-byte accesses, and a device that refuses an access — the error reply carries the request's
 * id, command and errno and the connection goes on; a posted write it refuses ends the connection unanswered.
 */
final class TrapPathTest {
    /** BAR0 offset whose accesses the device refuses. */
    private static final long REFUSED = 0x666 & ~7L;

    @TempDir
    Path dir;

    private final RecordingDeviceModel recording = new RecordingDeviceModel();
    private VfioUserServer server;
    private VfioUserChannel client;
    private int id;

    /** The recording device, except that it refuses every BAR0 access at {@link #REFUSED}. */
    private final class Refusing implements DeviceModel {
        @Override
        public DeviceLayout layout() {
            return recording.layout();
        }

        @Override
        public long read(int region, long offset, int size) {
            refuse(region, offset);
            return recording.read(region, offset, size);
        }

        @Override
        public void write(int region, long offset, int size, long value) {
            refuse(region, offset);
            recording.write(region, offset, size, value);
        }

        private void refuse(int region, long offset) {
            if (region == DeviceLayout.BAR0 && offset == REFUSED) {
                throw new GvtException(ErrorCode.PERMISSION_DENIED, "register 0x" + Long.toHexString(offset) + " refused");
            }
        }

        @Override
        public void trackedWrite(long gpa, MemorySegment bytes) {
            recording.trackedWrite(gpa, bytes);
        }

        @Override
        public void dmaUnmapped(long iova, long length) {
            recording.dmaUnmapped(iova, length);
        }

        @Override
        public void reset() {
            recording.reset();
        }

        @Override
        public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type) {
            return Optional.empty();
        }
    }

    @BeforeEach
    void start() {
        server = VfioUserServer.start("trap", dir.resolve("trap.sock"), new Refusing(), () -> {});
        client = new VfioUserChannel(UnixSocket.connect(server.path()), new VfioUserCodec(), 8);
        RawMessage v = call(Command.VERSION, new Payload.Version(0, 2, Optional.of("{}")), 0);
        assertThat(v.header().isError()).isFalse();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private int send(Command c, Payload p, int flags) {
        int mine = ++id & 0xFFFF;
        client.send(new Message(new Header(mine, c.number(), Header.SIZE + p.length(), flags, 0), p));
        return mine;
    }

    private RawMessage call(Command c, Payload p, int flags) {
        int sent = send(c, p, flags);
        RawMessage r = client.receiveRaw().orElseThrow(() -> new AssertionError("the server closed the connection"));
        assertThat(r.header().id()).as("the reply's id").isEqualTo(sent);
        assertThat(r.header().command()).as("the reply's command").isEqualTo(c.number());
        return r;
    }

    private byte[] read(long offset, int count) {
        RawMessage r = call(Command.REGION_READ, new RegionAccess(offset, DeviceLayout.BAR0, count), 0);
        assertThat(r.header().isError()).as("read of %d bytes at 0x%x: %s", count, offset, r.header()).isFalse();
        RegionAccess a = (RegionAccess) new VfioUserCodec().decodePayload(r.header(), r.payload());
        assertThat(a.offset()).isEqualTo(offset);
        assertThat(a.count()).isEqualTo(count);
        return a.data();
    }

    @Test
    void accessesOfOneToEightBytesCarryTheirValuesBothWays() {
        byte[] eight = {1, 2, 3, 4, 5, 6, 7, (byte) 0x88};
        assertThat(call(Command.REGION_WRITE, new RegionAccess(0x300, DeviceLayout.BAR0, 8, eight), 0).header().isError()).isFalse();
        assertThat(read(0x300, 8)).isEqualTo(eight);
        assertThat(read(0x300, 4)).containsExactly(1, 2, 3, 4);
        assertThat(read(0x306, 2)).containsExactly(7, 0x88);
        assertThat(read(0x301, 1)).containsExactly(2);
        assertThat(read(0x301, 3)).containsExactly(2, 3, 4); // 1 + 2 bytes, naturally aligned
        assertThat(call(Command.REGION_WRITE, new RegionAccess(0x305, DeviceLayout.BAR0, 3, new byte[] {9, 10, 11}), 0)
                .header().isError()).isFalse();
        assertThat(read(0x300, 8)).containsExactly(1, 2, 3, 4, 5, 9, 10, 11);
    }

    @Test
    void aRefusedAccessGetsTheErrorReplyOfItsRequestAndTheConnectionGoesOn() {
        RawMessage r = call(Command.REGION_READ, new RegionAccess(REFUSED, DeviceLayout.BAR0, 4), 0);
        assertThat(r.header().isError()).isTrue();
        assertThat(r.header().error()).isEqualTo(Errno.EPERM);
        assertThat(r.payload()).isEmpty();
        r = call(Command.REGION_WRITE, new RegionAccess(REFUSED, DeviceLayout.BAR0, 4, new byte[] {1, 2, 3, 4}), 0);
        assertThat(r.header().isError()).isTrue();
        assertThat(r.header().error()).isEqualTo(Errno.EPERM);
        assertThat(server.lastError()).contains("refused");
        // the next access is served
        assertThat(call(Command.REGION_WRITE, new RegionAccess(0x40, DeviceLayout.BAR0, 4, new byte[] {5, 6, 7, 8}), 0)
                .header().isError()).isFalse();
        assertThat(read(0x40, 4)).containsExactly(5, 6, 7, 8);
    }

    @Test
    void aRefusedPostedWriteEndsTheConnectionUnanswered() {
        send(Command.REGION_WRITE, new RegionAccess(REFUSED, DeviceLayout.BAR0, 4, new byte[] {1, 2, 3, 4}), Header.FLAG_NO_REPLY);
        Optional<RawMessage> next;
        try {
            next = client.receiveRaw();
        } catch (GvtException e) {
            next = Optional.empty(); // a reset connection
        }
        assertThat(next).as("no reply, and the server closed the connection").isEmpty();
    }
}
