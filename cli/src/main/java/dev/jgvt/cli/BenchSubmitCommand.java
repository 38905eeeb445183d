package dev.jgvt.cli;

import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.exec.ExecStats;
import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.guest.SubmitLoop;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gvt bench submit}: the same small blitter workload ({@link SubmitLoop#commands}) submitted through the
 * whole pipeline (a guest on the fake plugin: ring and context writes, ELSP trap, workload creation, scheduling,
 * scan and shadow copy, execution on the software GPU, CSB, MSI, the guest's completion check) and straight to
 * the software GPU's blitter without mediation, in one process, alternating rounds. Prints submissions per
 * second of both, their ratio, and the core's mediation time per submission.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = "Print submit_ratio=<mediated/direct>: submissions per second through the whole pipeline vs "
                + "the same workload submitted straight to the software GPU.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:measured and printed", "1:a mediated submission was not completed and checked",
            "2:bad options"})
final class BenchSubmitCommand implements Callable<Integer> {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long RAM = 64L << 20;
    /** Host graphics addresses of the direct path's ring, surface and store page (a GM range no vGPU uses). */
    private static final long DIRECT_RING = 0x10_0000L;
    private static final long DIRECT_SURFACE = 0x20_0000L;
    private static final long DIRECT_STORE = 0x30_0000L;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rounds", defaultValue = "7", description = "Measured rounds of each path (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--per-round", defaultValue = "500", description = "Submissions per round (default ${DEFAULT-VALUE}).")
    int perRound;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "2",
            description = "Seconds of warm-up over both paths before measuring (default ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "The plugins directory (default: the distribution's).")
    Path pluginsDir;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if (rounds < 1 || perRound < 1 || !(warmup >= 0 && warmup <= 600)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT,
                    "--rounds and --per-round must be at least 1, --warmup in [0, 600] seconds");
        }
        GvtConfig config = new GvtConfig(PluginsCommand.pluginsDirectory(pluginsDir), Map.of());
        try (SimGpu gpu = new SimGpu(SimGpuConfig.GEN9); Gvt gvt = Gvt.start(config, gpu);
                SimGpu directGpu = new SimGpu(SimGpuConfig.GEN9)) {
            int id = gvt.vgpus().create("GVTg_V5_4").id();
            AttachedVgpu attached = gvt.attach(id, "fake", new AttachRequest.InProcess("bench", RAM));
            SubmitLoop guest = new SubmitLoop(new InProcessPlatform(attached.inProcessGuest().orElseThrow()), 0);
            Direct direct = new Direct(directGpu);
            long warmupEnd = System.nanoTime() + (long) (warmup * 1e9);
            while (System.nanoTime() < warmupEnd) {
                mediated(guest, perRound / 4 + 1);
                direct.run(perRound / 4 + 1);
            }
            ExecStats before = gvt.stats(id).orElseThrow().exec();
            double[] ratios = new double[rounds];
            long mediatedNanos = 0;
            long directNanos = 0;
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                mediated(guest, perRound);
                long t1 = System.nanoTime();
                direct.run(perRound);
                long t2 = System.nanoTime();
                ratios[r] = (double) (t2 - t1) / (t1 - t0);
                mediatedNanos += t1 - t0;
                directNanos += t2 - t1;
            }
            ExecStats after = gvt.stats(id).orElseThrow().exec();
            long submissions = (long) rounds * perRound;
            long completed = after.completed() - before.completed();
            if (completed != submissions || !guest.errors().isEmpty()) {
                spec.commandLine().getErr().println("gvt bench submit: the guest saw wrong results: " + guest.errors());
                return 1;
            }
            java.util.Arrays.sort(ratios);
            double mediationUs = (after.mediationNanos() - before.mediationNanos()) / 1e3 / submissions;
            double scanUs = (after.scanNanos() - before.scanNanos()) / 1e3 / submissions;
            out.printf("submit_ratio=%.4f%n", ratios[rounds / 2]);
            out.printf("mediated_per_s=%.0f direct_per_s=%.0f mediation_us_per_submission=%.1f scan_us_per_submission=%.1f"
                    + " rounds=%d per_round=%d min=%.4f max=%.4f clock=wall%n",
                    submissions * 1e9 / mediatedNanos, submissions * 1e9 / directNanos, mediationUs, scanUs, rounds,
                    perRound, ratios[0], ratios[rounds - 1]);
            out.flush();
            return 0;
        }
    }

    private void mediated(SubmitLoop guest, int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            if (!guest.submitOnce(Duration.ofSeconds(10))) {
                throw new GvtException(ErrorCode.INTERNAL, "a mediated submission failed: " + guest.errors());
            }
        }
    }

    /** The unmediated path: the workload's bytes in host memory mapped in the host GGTT, executed directly. */
    private static final class Direct {
        private final SimGpu gpu;
        private final MemorySegment ring;
        private final MemorySegment store;
        private int sequence;

        Direct(SimGpu gpu) {
            this.gpu = gpu;
            this.ring = map(gpu, DIRECT_RING, 4096).segment();
            map(gpu, DIRECT_SURFACE, SubmitLoop.SURFACE_BYTES);
            this.store = map(gpu, DIRECT_STORE, 4096).segment();
        }

        private static HostBuffer map(SimGpu gpu, long gma, long bytes) {
            HostBuffer buffer = gpu.allocate(bytes, "bench");
            for (long off = 0; off < bytes; off += 4096) {
                gpu.ggttWrite((int) ((gma + off) >>> 12), (buffer.deviceAddress() + off) | 1);
            }
            return buffer;
        }

        void run(int n) {
            for (int i = 0; i < n; i++) {
                int value = ++sequence;
                int[] commands = SubmitLoop.commands(DIRECT_SURFACE, DIRECT_STORE, value);
                int bytes = (commands.length * 4 + 7) & ~7;
                for (int d = 0; d < commands.length; d++) {
                    ring.set(DW, d * 4L, commands[d]);
                }
                if (bytes != commands.length * 4) {
                    ring.set(DW, commands.length * 4L, 0);
                }
                HostCompletion done = gpu.execute(new HostSubmission(Engine.BCS, DIRECT_RING, 4096, 0, bytes, 0,
                        new long[4], 1 << 20));
                if (!done.completed() || store.get(DW, 0) != value) {
                    throw new GvtException(ErrorCode.INTERNAL, "a direct submission failed: " + done);
                }
            }
        }
    }
}
