package dev.jgvt.benchmarks;

import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.vgpu.HostGeometry;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.plugin.kvm.server.TrapPath;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.DeviceLayout;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The vfio-user server's per-message cost for a guest BAR access, without the socket: a 4-byte REGION_WRITE and
 * REGION_READ of a plain BAR0 register (RCS HWSTAM) of a real vGPU on the software GPU — the message decoded in
 * the receive buffer as the connection does, served, its reply written — through the allocation-free trap
 * path and through the decoded path every other message takes; and the device access alone (the floor).
 * The socket's share is what {@code gvt bench vfio-user} adds on top.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
public class TrapPathBenchmark {
    private static final long REGISTER = 0x2098;

    private Path plugins;
    private SimGpu gpu;
    private Gvt gvt;
    private Vgpu vgpu;
    private TrapPath path;
    private Arena arena;
    private MemorySegment received;
    private MemorySegment reply;
    private byte[] writeBytes;
    private byte[] readBytes;
    private int value;

    @Setup
    public void setUp() throws IOException {
        plugins = Files.createTempDirectory("jgvt-bench-plugins");
        GvtConfig config = new GvtConfig(plugins, Map.of());
        HostGeometry geometry = config.geometry();
        gpu = new SimGpu(new SimGpuConfig((int) (geometry.ggttSize() >>> 12), 1L << 24, 1L << 30, true));
        gvt = Gvt.start(config, gpu);
        vgpu = gvt.vgpus().create("GVTg_V5_4");
        vgpu.write(DeviceLayout.CONFIG, 4, 2, 0x6); // memory space + bus master
        path = new TrapPath(vgpu);
        arena = Arena.ofShared();
        writeBytes = VfioUserCodec.encode(new Message(new Header(1, Command.REGION_WRITE.number(), 36, 0, 0),
                new RegionAccess(REGISTER, DeviceLayout.BAR0, 4, new byte[] {1, 2, 3, 4})));
        readBytes = VfioUserCodec.encode(new Message(new Header(2, Command.REGION_READ.number(), 32, 0, 0),
                new RegionAccess(REGISTER, DeviceLayout.BAR0, 4)));
        received = arena.allocate(64 * 1024, 8);
        reply = arena.allocate(4096, 8);
    }

    @TearDown
    public void tearDown() throws IOException {
        arena.close();
        gvt.close();
        gpu.close();
        Files.deleteIfExists(plugins);
    }

    private int serve(byte[] message) {
        MemorySegment.copy(message, 0, received, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, message.length);
        int n = path.serve(received, message.length, reply);
        if (n < 0) {
            throw new IllegalStateException("the fast path refused the message");
        }
        return n;
    }

    @Benchmark
    public int regionWrite4Fast() {
        writeBytes[32] = (byte) ++value;
        return serve(writeBytes);
    }

    @Benchmark
    public int regionRead4Fast() {
        return serve(readBytes);
    }

    @Benchmark
    public byte[] regionWrite4Decoded() {
        writeBytes[32] = (byte) ++value;
        return path.serveDecoded(writeBytes);
    }

    @Benchmark
    public byte[] regionRead4Decoded() {
        return path.serveDecoded(readBytes);
    }

    @Benchmark
    public void deviceWrite4Only() {
        vgpu.write(DeviceLayout.BAR0, REGISTER, 4, ++value);
    }

    @Benchmark
    public long deviceRead4Only() {
        return vgpu.read(DeviceLayout.BAR0, REGISTER, 4);
    }
}
