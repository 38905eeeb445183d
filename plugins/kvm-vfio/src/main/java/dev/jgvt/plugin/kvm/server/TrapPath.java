package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.spi.DeviceModel;
import java.lang.foreign.MemorySegment;

/**
 * The server's per-message work for a BAR access without the socket, as a {@link Connection} does it: the
 * allocation-free path of {@link RegionIo#take} and {@link RegionIo#serveTaken} and, for comparison, the decoded path (codec decode, a
 * {@link RegionAccess} record, encode of the reply) that every other message takes. For the JMH benchmark
 * ({@code benchmarks}, {@code TrapPathBenchmark}); the connection itself uses {@link RegionIo}.
 */
public final class TrapPath {
    private final RegionIo io;
    private final VfioUserCodec codec = new VfioUserCodec();

    public TrapPath(DeviceModel device) {
        requireNonNull(device, "device is null");
        this.io = new RegionIo(device, new ServedLayout(device.layout()));
    }

    /**
     * Serves the REGION_READ/WRITE message of {@code size} bytes in {@code request} (the receive buffer: it is
     * decoded in place) and writes the reply message into {@code reply}; returns the reply's length, or -1 if the
     * message is not one the fast path takes.
     */
    public int serve(MemorySegment request, int size, MemorySegment reply) {
        return io.take(request, 0, size) ? io.serveTaken(reply) : -1;
    }

    /** The same message through the decoded path; returns the reply's bytes. */
    public byte[] serveDecoded(byte[] message) {
        Message m = codec.decode(message);
        RegionAccess a = (RegionAccess) m.payload();
        RegionAccess reply = m.header().command() == Command.REGION_READ.number() ? io.read(a) : io.write(a);
        return VfioUserCodec.encode(Message.reply(m.header(), reply));
    }
}
