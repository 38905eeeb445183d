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
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URL;
import java.net.URLClassLoader;
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
 * {@code gvt bench vfio-user}: what a VMM sees of the vfio-user trap path. A vGPU is served by the kvm-vfio
 * plugin in this process; the client is another process — a small C program of this project compiled at bench
 * time with {@code gcc} — that connects to the vGPU's socket and, in the same run, to a raw AF_UNIX
 * request/reply server (the same program, another process) answering the same sizes. Rounds interleave: a
 * 4-byte REGION_WRITE to a BAR0 register and its reply (36 B out, 32 B back), the raw exchange of those sizes,
 * a 4-byte REGION_READ (32 B out, 36 B back), the raw exchange of those sizes. It runs once with the client,
 * the server's serving thread and the raw server on one CPU and once with the client on another CPU
 * ({@code sched_setaffinity}; the serving thread is placed with {@code taskset -p}), and prints p50 and p99 of
 * single round trips, the median of the rounds' means and the ratios to raw. Then MSI delivery through the
 * eventfd, measured in-process with the reference VMM as before.
 */
@Command(name = "vfio-user", mixinStandardHelpOptions = true,
        description = "vfio-user BAR read/write round trips from another process vs raw AF_UNIX request/reply of the same sizes"
                + " (same client, interleaved rounds, one CPU and two CPUs), and MSI delivery latency via eventfd.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:measured and printed", "1:could not measure (no C compiler, client failed)", "2:bad options"})
final class BenchVfioUser implements Callable<Integer> {
    /** RCS HWSTAM: a plain stored register, harmless to rewrite. */
    private static final long REGISTER = 0x2098;
    /** Warm-up batches at least; then more until a batch saw no JIT compilation (the client stops at 20). */
    private static final int MIN_WARMUP_BATCHES = 3;
    private static final String[] KINDS = {"vfu_write", "raw_36_32", "vfu_read", "raw_32_36"};

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rounds", defaultValue = "9", description = "Measured rounds of each kind (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--ops", defaultValue = "2000", description = "Operations per round (default ${DEFAULT-VALUE}).")
    int ops;

    @Option(names = "--cc", defaultValue = "gcc", description = "The C compiler for the client (default ${DEFAULT-VALUE}).")
    String cc;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "The plugins directory (default: the distribution's).")
    Path pluginsDir;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (rounds < 1 || ops < 10) {
            err.println("gvt bench vfio-user: --rounds must be >= 1 and --ops >= 10");
            return ErrorHandler.REJECTED;
        }
        Path dir = Files.createTempDirectory("jgvt-bench");
        Path socket = dir.resolve("vgpu.sock");
        Path plugins = PluginsCommand.pluginsDirectory(pluginsDir);
        GvtConfig config = new GvtConfig(plugins, Map.of());
        HostGeometry geometry = config.geometry();
        try {
            Path client = compileClient(dir, err);
            if (client == null) {
                return 1;
            }
            try (SimGpu gpu = new SimGpu(new SimGpuConfig((int) (geometry.ggttSize() >>> 12), 1L << 24, 1L << 30, true));
                    Gvt gvt = Gvt.start(config, gpu);
                    URLClassLoader loader = new URLClassLoader(new URL[] {VmmCommand.pluginJar(plugins).toUri().toURL()},
                            BenchVfioUser.class.getClassLoader())) {
                Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
                AttachedVgpu attached = gvt.attach(vgpu.id(), "kvm-vfio", new AttachRequest.UnixSocket(socket));
                try {
                    int tid = (int) attached.binding().getClass().getMethod("servingThreadId").invoke(attached.binding());
                    if (tid <= 0) {
                        err.println("gvt bench vfio-user: the vGPU's serving thread did not start");
                        return 1;
                    }
                    int cpus = Runtime.getRuntime().availableProcessors();
                    out.printf("cpus=%d serving_thread_tid=%d client=%s (separate process), raw server=the same program (separate process)%n",
                            cpus, tid, client.getFileName());
                    out.printf("load average at start: %s%n", loadAverage());
                    boolean ok = placement(out, err, client, dir, socket, tid, 0, 0, "one CPU: client, serving thread and raw server on cpu 0");
                    if (cpus >= 2) {
                        ok &= placement(out, err, client, dir, socket, tid, 0, 1,
                                "two CPUs: client on cpu 0, serving thread and raw server on cpu 1");
                    }
                    taskset(tid, "0-" + (cpus - 1));
                    out.printf("load average after the placements: %s%n", loadAverage());
                    if (!ok) {
                        return 1;
                    }
                    InProcessGuest guest = VmmCommand.open(loader, socket, Map.of("ram", Long.toString(32L << 20)));
                    try {
                        InterruptSink sink = attached.binding().interrupts();
                        long[] msi = msiLatencies(sink, guest, Math.min(ops, 2000));
                        out.printf("msi_delivery_us median=%.1f p90=%.1f p99=%.1f max=%.1f (%d signals in this process: eventfd write"
                                + " -> VMM thread read -> guest woken)%n",
                                msi[msi.length / 2] / 1000.0, msi[(int) (msi.length * 0.9)] / 1000.0, msi[(int) (msi.length * 0.99)] / 1000.0,
                                msi[msi.length - 1] / 1000.0, msi.length);
                    } finally {
                        ((AutoCloseable) guest).close();
                    }
                    out.flush();
                } finally {
                    gvt.detach(vgpu.id());
                }
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
        return 0;
    }

    /** Compiles the client from the jar's C source; null (with a message) if that is not possible. */
    private Path compileClient(Path dir, PrintWriter err) throws IOException, InterruptedException {
        Path source = dir.resolve("vfu-bench.c");
        try (InputStream in = BenchVfioUser.class.getResourceAsStream("vfu-bench.c")) {
            if (in == null) {
                err.println("gvt bench vfio-user: the client source vfu-bench.c is missing from the distribution");
                return null;
            }
            Files.copy(in, source);
        }
        Path binary = dir.resolve("vfu-bench");
        Process p;
        try {
            p = new ProcessBuilder(cc, "-O2", "-o", binary.toString(), source.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            err.println("gvt bench vfio-user: the out-of-process client needs a C compiler; '" + cc + "' cannot be run: " + e.getMessage());
            return null;
        }
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            err.println("gvt bench vfio-user: compiling the client failed: " + output.strip());
            return null;
        }
        return binary;
    }

    /** One placement: a raw server, the client against both, the parsed figures. */
    private boolean placement(PrintWriter out, PrintWriter err, Path client, Path dir, Path socket, int tid, int clientCpu,
            int serverCpu, String label) throws IOException, InterruptedException {
        Path raw = dir.resolve("raw-" + clientCpu + "-" + serverCpu + ".sock");
        if (!taskset(tid, Integer.toString(serverCpu))) {
            err.println("gvt bench vfio-user: taskset could not place the serving thread on cpu " + serverCpu);
            return false;
        }
        Process echo = new ProcessBuilder(client.toString(), "echo", raw.toString(), Integer.toString(serverCpu)).start();
        try {
            BufferedReader ready = new BufferedReader(new InputStreamReader(echo.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
            if (!"ready".equals(ready.readLine())) {
                err.println("gvt bench vfio-user: the raw server did not start");
                return false;
            }
            Process c = new ProcessBuilder(client.toString(), "client", socket.toString(), raw.toString(), Integer.toString(clientCpu),
                    Integer.toString(rounds), Integer.toString(ops), "0x" + Long.toHexString(REGISTER),
                    "/proc/" + ProcessHandle.current().pid() + "/task/" + tid + "/schedstat",
                    "/proc/" + echo.pid() + "/task/" + echo.pid() + "/schedstat").start();
            long self = ProcessHandle.current().pid();
            BufferedReader lines = new BufferedReader(new InputStreamReader(c.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
            java.io.OutputStream go = c.getOutputStream();
            StringBuilder output = new StringBuilder();
            TaskCounters[] before = null;
            java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
            long lastCompiled = -1;
            int batches = 0;
            TaskCounters[] after = null;
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.equals("warm")) {
                    // another batch while the JIT is still compiling (a partly compiled server is not what a VMM sees)
                    long compiled = jit.getTotalCompilationTime();
                    batches++;
                    boolean settled = batches >= MIN_WARMUP_BATCHES && compiled == lastCompiled;
                    lastCompiled = compiled;
                    if (settled) {
                        before = new TaskCounters[] {TaskCounters.of(self, tid), TaskCounters.of(echo.pid(), echo.pid()),
                            TaskCounters.of(c.pid(), c.pid())};
                    }
                    go.write(settled ? "go\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII) : "more\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    go.flush();
                } else if (line.equals("end")) {
                    after = new TaskCounters[] {TaskCounters.of(self, tid), TaskCounters.of(echo.pid(), echo.pid()), TaskCounters.of(c.pid(), c.pid())};
                    go.write('\n');
                    go.flush();
                } else {
                    output.append(line).append('\n');
                }
            }
            String errors = new String(c.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (c.waitFor() != 0) {
                err.println("gvt bench vfio-user: the client failed: " + errors.strip());
                return false;
            }
            Map<String, double[]> figures = new java.util.HashMap<>();
            for (String line : output.toString().split("\n")) {
                String[] f = line.trim().split(" ");
                if (f.length == 8) {
                    figures.put(f[0], new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                        Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7])});
                }
            }
            for (String k : KINDS) {
                if (!figures.containsKey(k)) {
                    err.println("gvt bench vfio-user: the client printed no " + k + " figure: " + output.toString().strip());
                    return false;
                }
            }
            out.printf("%s (%d interleaved rounds x %d ops per kind, after %d warm-up batches of 60000 exchanges: until the JIT settled)%n",
                    label, rounds, ops, batches);
            print(out, "region_write_4B", figures.get("vfu_write"), "raw_36B_to_32B", figures.get("raw_36_32"));
            print(out, "region_read_4B ", figures.get("vfu_read"), "raw_32B_to_36B", figures.get("raw_32_36"));
            out.printf("  cpu per op: %s | %s%n", cpu("region_write", figures.get("vfu_write")), cpu("raw_36_32", figures.get("raw_36_32")));
            out.printf("  cpu per op: %s | %s%n", cpu("region_read", figures.get("vfu_read")), cpu("raw_32_36", figures.get("raw_32_36")));
            if (before != null && after != null) {
                long requests = 2L * rounds * ops;
                out.printf("  per request over the measured rounds: serving thread %s | raw server %s | client %s%n",
                        after[0].minus(before[0]).perRequest(requests), after[1].minus(before[1]).perRequest(requests),
                        after[2].minus(before[2]).perRequest(2 * requests));
            }
            return true;
        } finally {
            echo.destroy();
            echo.waitFor();
            Files.deleteIfExists(raw);
        }
    }

    private static void print(PrintWriter out, String name, double[] vfu, String rawName, double[] raw) {
        out.printf("  %s p50=%.2fus p99=%.2fus round_median=%.2fus | %s p50=%.2fus p99=%.2fus round_median=%.2fus"
                        + " | ratio p50=%.2f round_median=%.2f p99=%.2f%n",
                name, vfu[0] / 1000, vfu[1] / 1000, vfu[2] / 1000, rawName, raw[0] / 1000, raw[1] / 1000, raw[2] / 1000,
                vfu[0] / raw[0], vfu[2] / raw[2], vfu[1] / raw[1]);
    }

    /** The client's and the answering server's CPU time per operation (ns figures of the client; -1: unknown). */
    private static String cpu(String name, double[] f) {
        if (f[4] < 0) {
            return String.format("%s client=%.2fus", name, f[3] / 1000);
        }
        return String.format("%s client=%.2fus server=%.2fus sum=%.2fus server_runs=%.2f", name, f[3] / 1000, f[4] / 1000,
                (f[3] + f[4]) / 1000, f[5] / 1000);
    }

    /** The 1, 5 and 15 minute load averages from {@code /proc/loadavg} (other work on the machine skews the figures). */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** {@code taskset -p -c CPUS TID}; false if it failed. */
    private static boolean taskset(int tid, String cpus) throws IOException, InterruptedException {
        try {
            Process p = new ProcessBuilder("taskset", "-p", "-c", cpus, Integer.toString(tid)).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
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
}
