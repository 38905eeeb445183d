package dev.jgvt.cli;

import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.vgpu.HostGeometry;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.InProcessGuest;
import dev.jgvt.spi.InterruptSink;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gvt bench vfio-user}: in one process, a vGPU served by the kvm-vfio plugin and the reference VMM
 * connected to it. Measures (1) a guest MMIO write round trip (REGION_WRITE of 4 bytes to a plain BAR0
 * register and its reply) against a raw AF_UNIX request/reply of the same sizes (36 bytes out, 32 back, an
 * echo thread on the other end) in the same run, alternating rounds, reporting medians and their ratio; and
 * (2) MSI delivery: from the binding's {@code signalMsi()} (an eventfd write) to the VMM's MSI thread having
 * counted it and woken the waiting guest thread.
 */
@Command(name = "vfio-user", mixinStandardHelpOptions = true,
        description = "MMIO write round trip over vfio-user vs raw AF_UNIX request/reply, and MSI delivery latency via eventfd.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:measured and printed", "2:bad options"})
final class BenchVfioUser implements Callable<Integer> {
    /** RCS HWSTAM: a plain stored register, harmless to rewrite. */
    private static final long REGISTER = 0x2098;
    private static final int REQUEST_BYTES = 16 + 16 + 4;
    private static final int REPLY_BYTES = 16 + 16;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rounds", defaultValue = "9", description = "Measured rounds of each kind (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--ops", defaultValue = "2000", description = "Operations per round (default ${DEFAULT-VALUE}).")
    int ops;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "The plugins directory (default: the distribution's).")
    Path pluginsDir;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (rounds < 1 || ops < 10) {
            spec.commandLine().getErr().println("gvt bench vfio-user: --rounds must be >= 1 and --ops >= 10");
            return ErrorHandler.REJECTED;
        }
        Path dir = Files.createTempDirectory("jgvt-bench");
        Path socket = dir.resolve("vgpu.sock");
        Path rawSocket = dir.resolve("raw.sock");
        Path plugins = PluginsCommand.pluginsDirectory(pluginsDir);
        GvtConfig config = new GvtConfig(plugins, Map.of());
        HostGeometry geometry = config.geometry();
        try (SimGpu gpu = new SimGpu(new SimGpuConfig((int) (geometry.ggttSize() >>> 12), 1L << 24, 1L << 30, true));
                Gvt gvt = Gvt.start(config, gpu);
                URLClassLoader loader = new URLClassLoader(new URL[] {VmmCommand.pluginJar(plugins).toUri().toURL()},
                        BenchVfioUser.class.getClassLoader());
                RawEcho echo = new RawEcho(rawSocket)) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            AttachedVgpu attached = gvt.attach(vgpu.id(), "kvm-vfio", new AttachRequest.UnixSocket(socket));
            InProcessGuest guest = VmmCommand.open(loader, socket, Map.of("ram", Long.toString(32L << 20)));
            try (SocketChannel raw = SocketChannel.open(UnixDomainSocketAddress.of(rawSocket))) {
                guest.configWrite(4, 2, 0x6); // memory space + bus master
                ByteBuffer request = ByteBuffer.allocateDirect(REQUEST_BYTES);
                ByteBuffer reply = ByteBuffer.allocateDirect(REPLY_BYTES);
                // warm-up
                long end = System.nanoTime() + 2_000_000_000L;
                while (System.nanoTime() < end) {
                    mmioRound(guest, ops / 4);
                    rawRound(raw, request, reply, ops / 4);
                }
                double[] mmio = new double[rounds];
                double[] baseline = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    mmio[r] = mmioRound(guest, ops);
                    baseline[r] = rawRound(raw, request, reply, ops);
                }
                double m = median(mmio);
                double b = median(baseline);
                InterruptSink sink = attached.binding().interrupts();
                long[] msi = msiLatencies(sink, guest, Math.min(ops, 2000));
                out.printf("mmio_write_roundtrip_us=%.2f raw_af_unix_roundtrip_us=%.2f ratio=%.2f (medians of %d rounds x %d ops)%n",
                        m / 1000, b / 1000, m / b, rounds, ops);
                out.printf("msi_delivery_us median=%.1f p90=%.1f p99=%.1f max=%.1f (%d signals: eventfd write -> VMM thread read -> guest woken)%n",
                        msi[msi.length / 2] / 1000.0, msi[(int) (msi.length * 0.9)] / 1000.0, msi[(int) (msi.length * 0.99)] / 1000.0,
                        msi[msi.length - 1] / 1000.0, msi.length);
                out.printf("cpus=%d (both ends in this process; wall time)%n", Runtime.getRuntime().availableProcessors());
                out.flush();
            } finally {
                ((AutoCloseable) guest).close();
                gvt.detach(vgpu.id());
            }
        } finally {
            Files.deleteIfExists(rawSocket);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
        return 0;
    }

    /** Nanoseconds per guest MMIO write (a REGION_WRITE round trip). */
    private static double mmioRound(InProcessGuest guest, int n) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            guest.mmioWrite(0, REGISTER, 4, i);
        }
        return (System.nanoTime() - t0) / (double) n;
    }

    /** Nanoseconds per raw request/reply of the same sizes. */
    private static double rawRound(SocketChannel raw, ByteBuffer request, ByteBuffer reply, int n) throws IOException {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            request.clear();
            request.putInt(0, i);
            while (request.hasRemaining()) {
                raw.write(request);
            }
            reply.clear();
            while (reply.hasRemaining()) {
                if (raw.read(reply) < 0) {
                    throw new IOException("the echo thread closed");
                }
            }
        }
        return (System.nanoTime() - t0) / (double) n;
    }

    private static long[] msiLatencies(InterruptSink sink, InProcessGuest guest, int n) throws InterruptedException {
        long[] lat = new long[n];
        for (int i = 0; i < n; i++) {
            long seen = guest.msiCount();
            long t0 = System.nanoTime();
            sink.signalMsi();
            long now = guest.awaitMsi(seen, Duration.ofSeconds(1));
            lat[i] = System.nanoTime() - t0;
            if (now <= seen) {
                throw new IllegalStateException("an MSI was not delivered within 1 s");
            }
        }
        Arrays.sort(lat);
        return lat;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    /** The raw baseline's other end: reads 36-byte requests, answers 32 bytes, on its own thread. */
    private static final class RawEcho implements AutoCloseable {
        private final ServerSocketChannel server;
        private final Thread thread;

        RawEcho(Path path) throws IOException {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
            thread = Thread.ofPlatform().daemon().name("raw-echo").start(this::serve);
        }

        private void serve() {
            try (SocketChannel c = server.accept()) {
                ByteBuffer in = ByteBuffer.allocateDirect(REQUEST_BYTES);
                ByteBuffer out = ByteBuffer.allocateDirect(REPLY_BYTES);
                while (true) {
                    in.clear();
                    while (in.hasRemaining()) {
                        if (c.read(in) < 0) {
                            return;
                        }
                    }
                    out.clear();
                    out.putInt(0, in.getInt(0));
                    while (out.hasRemaining()) {
                        c.write(out);
                    }
                }
            } catch (IOException e) {
                // closed
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            try {
                thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
