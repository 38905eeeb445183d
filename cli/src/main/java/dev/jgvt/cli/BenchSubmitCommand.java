package dev.jgvt.cli;

import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.exec.ExecStats;
import dev.jgvt.core.exec.GpuScheduler;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.guest.SubmitLoop;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InProcessGuest;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gvt bench submit}: the same blitter workload ({@link SubmitLoop#commands}) submitted through the whole
 * pipeline (a guest on the fake plugin: ring and context writes, ELSP trap, workload creation, scheduling, scan and
 * shadow copy, execution on the software GPU, CSB, MSI, the guest's completion check) and straight to the software
 * GPU's blitter without mediation, in one process, alternating rounds. Two sizes: the tiny 64x64 fill, and a fill
 * calibrated at start-up so that the software GPU is busy at least {@code --busy-us} per workload. Prints
 * submissions per second of both paths, their ratio, the core's mediation time per submission, where the
 * workloads started (inline on the ELSP thread or on a dispatcher), the ELSP-to-MSI latency the guest saw and, as
 * its yardstick measured in the same run, a same-CPU eventfd round trip.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = "Print submit_ratio=<mediated/direct> (tiny workloads) and submit_ratio_busy=<mediated/direct>"
                + " (workloads keeping the GPU busy >= --busy-us): submissions per second through the whole pipeline vs"
                + " the same workload submitted straight to the software GPU; ELSP-to-MSI latency vs a same-CPU"
                + " eventfd round trip.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:measured and printed", "1:a mediated submission was not completed and checked",
            "2:bad options"})
final class BenchSubmitCommand implements Callable<Integer> {
    private static final long RAM = 64L << 20;
    private static final int TINY = SubmitLoop.FILL;
    /** The guests cross-check the CSB registers on every this many submissions ({@link SubmitLoop#checkCsbRegistersEvery}). */
    private static final int REGISTER_CHECK_EVERY = 100;
    private static final int MAX_SIDE = 1024;
    private static final double MAX_WARMUP_SECONDS = 60;
    /** How long the JIT must have finished no compilation before the warm-up ends (a C2 compile of the trap path's
     *  large methods takes seconds on a loaded 2-core host, and only finished ones are counted). */
    private static final long JIT_QUIET_NANOS = 2_000_000_000L;
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rounds", defaultValue = "7", description = "Measured rounds of each path and size (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--per-round", defaultValue = "500", description = "Submissions per round (default ${DEFAULT-VALUE}).")
    int perRound;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "2",
            description = "Seconds of warm-up over both paths before measuring (default ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--busy-us", paramLabel = "US", defaultValue = "50",
            description = "GPU time per workload the busy size is calibrated to reach, in µs (default ${DEFAULT-VALUE}).")
    int busyMicros;

    @Option(names = "--cpu", defaultValue = "0", description = "The CPU the eventfd round trips run on (default ${DEFAULT-VALUE}).")
    int cpu;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "The plugins directory (default: the distribution's).")
    Path pluginsDir;

    @Override
    public Integer call() throws InterruptedException, IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (rounds < 1 || perRound < 1 || !(warmup >= 0 && warmup <= 600) || busyMicros < 1 || busyMicros > 10_000
                || cpu < 0 || cpu >= Runtime.getRuntime().availableProcessors()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--rounds and --per-round must be at least 1, --warmup in"
                    + " [0, 600] seconds, --busy-us in [1, 10000], --cpu one of this machine's CPUs");
        }
        GvtConfig config = new GvtConfig(PluginsCommand.pluginsDirectory(pluginsDir), Map.of());
        try (SimGpu gpu = new SimGpu(SimGpuConfig.GEN9); Gvt gvt = Gvt.start(config, gpu);
                SimGpu directGpu = new SimGpu(SimGpuConfig.GEN9)) {
            DirectSubmissions direct = new DirectSubmissions(directGpu, MAX_SIDE);
            long started = System.nanoTime();
            // the blitter compiled before calibrating, else the busy size is chosen by half-compiled code
            warmUp(warmup / 2, () -> {
                direct.run(50, TINY);
                direct.run(5, 8 * TINY);
            });
            int busySide = calibrate(direct, TINY + 16);
            out.printf("load_before=%s cpus=%d%n", loadAverage(), Runtime.getRuntime().availableProcessors());
            Size tiny = new Size("tiny", TINY, gvt, direct);
            Size busy = new Size("busy", busySide, gvt, direct);
            tiny.platform.recording = true; // the measured rounds' code paths, also while warming up
            busy.platform.recording = true;
            boolean quiet = warmUp(warmup, () -> {
                tiny.round(perRound / 4 + 1, false);
                busy.round(perRound / 20 + 1, false);
            });
            // the size again with the code as the measured rounds will run it (it may have become faster meanwhile)
            busy.side(calibrate(direct, busy.side));
            long warmupNanos = System.nanoTime() - started;
            long jitBefore = jitMillis();
            GpuScheduler.Starts startsBefore = gvt.workloadStarts();
            long idleWakeupsBefore = gvt.dispatcherIdleWakeups();
            tiny.begin();
            busy.begin();
            List<long[]> eventfd = new ArrayList<>();
            int busyPerRound = Math.max(1, perRound / 5);
            for (int r = 0; r < rounds; r++) {
                tiny.round(perRound, true);
                busy.round(busyPerRound, true);
                eventfd.add(EventFdRoundTrip.measure(cpu, Math.max(100, perRound)));
            }
            GpuScheduler.Starts startsAfter = gvt.workloadStarts();
            long jitDuring = jitMillis() - jitBefore;
            if (!tiny.check(spec.commandLine().getErr()) || !busy.check(spec.commandLine().getErr())) {
                return 1;
            }
            long[] roundTrips = eventfd.stream().flatMapToLong(java.util.Arrays::stream).sorted().toArray();
            out.printf("submit_ratio=%.4f%n", tiny.medianRatio());
            tiny.print(out);
            out.printf("submit_ratio_busy=%.4f%n", busy.medianRatio());
            busy.print(out);
            out.printf("submit_ratio_cpu=%.4f submit_ratio_busy_cpu=%.4f (the bench thread's CPU time; it does all the mediated"
                    + " work only when no workload was dispatched: see starts)%n", tiny.medianCpuRatio(), busy.medianCpuRatio());
            long[] latency = tiny.latencies();
            out.printf("elsp_to_msi_us p50=%.1f p90=%.1f p99=%.1f max=%.1f n=%d (tiny; the guest's submitting ELSP write to"
                    + " the guest seeing the MSI)%n", us(pct(latency, 50)), us(pct(latency, 90)), us(pct(latency, 99)),
                    us(latency[latency.length - 1]), latency.length);
            long[] busyLatency = busy.latencies();
            out.printf("elsp_to_msi_busy_us p50=%.1f p99=%.1f n=%d%n", us(pct(busyLatency, 50)), us(pct(busyLatency, 99)),
                    busyLatency.length);
            out.printf("eventfd_round_trip_us p50=%.1f p90=%.1f p99=%.1f n=%d (two threads on cpu %d)%n",
                    us(pct(roundTrips, 50)), us(pct(roundTrips, 90)), us(pct(roundTrips, 99)), roundTrips.length, cpu);
            out.printf("latency_ratio=%.2f (elsp_to_msi p50 / eventfd_round_trip p50)%n",
                    (double) pct(latency, 50) / pct(roundTrips, 50));
            out.printf("starts inline=%d dispatched=%d handoffs=%d%n", startsAfter.inline() - startsBefore.inline(),
                    startsAfter.dispatched() - startsBefore.dispatched(), startsAfter.handoffs() - startsBefore.handoffs());
            out.printf("dispatcher_idle_wakeups=%d (dispatcher threads woken with nothing to take)%n",
                    gvt.dispatcherIdleWakeups() - idleWakeupsBefore);
            out.printf("warmup_s=%.1f jit_settled=%s jit_ms_during_rounds=%d busy_target_met=%s (direct busy workload %.1f µs"
                    + " >= --busy-us %d)%n", warmupNanos / 1e9, quiet ? "yes" : "no", jitDuring,
                    busy.directMicros() >= busyMicros ? "yes" : "no", busy.directMicros(), busyMicros);
            out.printf("load_after=%s rounds=%d per_round=%d busy_per_round=%d clock=wall%n", loadAverage(), rounds,
                    perRound, busyPerRound);
            out.flush();
            return 0;
        }
    }

    /** Work to repeat while warming up. */
    @FunctionalInterface
    private interface Round {
        void run() throws InterruptedException;
    }

    /**
     * Repeats {@code round} for at least {@code seconds}, then on until the JIT has finished no compilation for 2 s
     * (at most {@value #MAX_WARMUP_SECONDS} s in all), so that the measured rounds run steady-state code, as a VMM
     * that has been up a while does: on a loaded 2-core host C2 takes seconds for the trap path's large methods.
     * Nothing with {@code seconds == 0}. Returns whether the JIT settled.
     */
    private static boolean warmUp(double seconds, Round round) throws InterruptedException {
        if (seconds <= 0) {
            return false;
        }
        long now = System.nanoTime();
        long minimum = now + (long) (seconds * 1e9);
        long maximum = now + (long) (Math.max(seconds, MAX_WARMUP_SECONDS) * 1e9);
        long jit = jitMillis();
        long jitChanged = now;
        while (true) {
            round.run();
            now = System.nanoTime();
            long j = jitMillis();
            if (j != jit) {
                jit = j;
                jitChanged = now;
            }
            if (now - minimum >= 0 && now - jitChanged >= JIT_QUIET_NANOS) {
                return true;
            }
            if (now - maximum >= 0) {
                return false;
            }
        }
    }

    /** Milliseconds the JIT compilers spent so far (0 when the VM does not say). */
    private static long jitMillis() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /**
     * The smallest fill side (a multiple of 16) whose direct execution takes at least {@code busyMicros}, judged by
     * the fastest of several runs (the one least disturbed by other load on the machine), searched from {@code from}
     * up or down.
     */
    private int calibrate(DirectSubmissions direct, int from) {
        direct.run(3, MAX_SIDE); // touch the whole surface once
        int side = Math.max(TINY + 16, Math.min(MAX_SIDE, from));
        while (side < MAX_SIDE && fastestMicros(direct, side) < busyMicros) {
            side += 16;
        }
        while (side > TINY + 16 && fastestMicros(direct, side - 16) >= busyMicros) {
            side -= 16;
        }
        return side;
    }

    private static double fastestMicros(DirectSubmissions direct, int side) {
        long fastest = Long.MAX_VALUE;
        for (int i = 0; i < 21; i++) {
            long t0 = System.nanoTime();
            direct.run(1, side);
            fastest = Math.min(fastest, System.nanoTime() - t0);
        }
        return fastest / 1e3;
    }

    /** One workload size: its guest on a vGPU of its own, its rounds, ratios and latencies. */
    private final class Size {
        final String name;
        int side;
        final int vgpuId;
        final Gvt gvt;
        final DirectSubmissions direct;
        final SubmitLoop guest;
        final TimedPlatform platform;
        final List<Double> ratios = new ArrayList<>();
        /** The same ratio in this thread's CPU time (valid while the mediated work runs inline on this thread). */
        final List<Double> cpuRatios = new ArrayList<>();
        long mediatedNanos;
        long directNanos;
        long submissions;
        ExecStats before;
        long mediatedGpuNanos;
        /** Time of direct workloads run and timed one by one after each measured round (not in the throughput). */
        long directGpuNanos;
        long directTimed;

        Size(String name, int side, Gvt gvt, DirectSubmissions direct) {
            this.name = name;
            this.side = side;
            this.gvt = gvt;
            this.direct = direct;
            this.vgpuId = gvt.vgpus().create("GVTg_V5_4").id();
            AttachedVgpu attached = gvt.attach(vgpuId, "fake", new AttachRequest.InProcess("bench-" + name, RAM));
            this.platform = new TimedPlatform(attached.inProcessGuest().orElseThrow());
            this.guest = new SubmitLoop(platform, 0, side, side == TINY ? TINY : MAX_SIDE);
            // as i915, which reads the CSB from the status page only: the simulator's cross-check of the CSB registers
            // (five trapped MMIO reads) only now and then
            guest.checkCsbRegistersEvery(REGISTER_CHECK_EVERY);
        }

        /** Fills of {@code newSide} pixels square from now on. */
        void side(int newSide) {
            side = newSide;
            guest.side(newSide);
        }

        void begin() {
            before = gvt.stats(vgpuId).orElseThrow().exec();
            platform.clear();
            platform.recording = true;
        }

        /** Microseconds per direct workload in the measured rounds. */
        double directMicros() {
            return submissions == 0 ? 0 : directNanos / 1e3 / submissions;
        }

        /** Runs {@code n} submissions through each path; a measured round adds to the sums (BCS busy time too). */
        void round(int n, boolean measured) throws InterruptedException {
            long busy0 = gvt.engineBusyNanos(Engine.BCS);
            long c0 = CPU.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if (!guest.submitOnce(Duration.ofSeconds(10))) {
                    throw new GvtException(ErrorCode.INTERNAL, "a mediated submission failed: " + guest.errors());
                }
            }
            long t1 = System.nanoTime();
            long c1 = CPU.getCurrentThreadCpuTime();
            long busy1 = gvt.engineBusyNanos(Engine.BCS);
            direct.run(n, side);
            long t2 = System.nanoTime();
            long c2 = CPU.getCurrentThreadCpuTime();
            if (measured) {
                ratios.add((double) (t2 - t1) / (t1 - t0));
                cpuRatios.add((double) (c2 - c1) / (c1 - c0));
                mediatedNanos += t1 - t0;
                directNanos += t2 - t1;
                submissions += n;
                mediatedGpuNanos += busy1 - busy0;
                int timed = Math.min(n, 20);
                directGpuNanos += direct.runTimed(timed, side);
                directTimed += timed;
            }
        }

        boolean check(PrintWriter err) {
            ExecStats after = gvt.stats(vgpuId).orElseThrow().exec();
            if (after.completed() - before.completed() != submissions || !guest.errors().isEmpty()) {
                err.println("gvt bench submit: the " + name + " guest saw wrong results: " + guest.errors());
                return false;
            }
            platform.recording = false;
            return true;
        }

        double medianRatio() {
            return median(ratios);
        }

        double medianCpuRatio() {
            return median(cpuRatios);
        }

        private static double median(List<Double> values) {
            double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return sorted[sorted.length / 2];
        }

        long[] latencies() {
            long[] l = Arrays.copyOf(platform.latencies, platform.latencyCount);
            Arrays.sort(l);
            return l.length == 0 ? new long[] {0} : l;
        }

        void print(PrintWriter out) {
            ExecStats after = gvt.stats(vgpuId).orElseThrow().exec();
            double[] sorted = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            out.printf("%s: fill=%dx%d mediated_per_s=%.0f direct_per_s=%.0f direct_us_per_workload=%.1f"
                    + " mediated_gpu_us_per_workload=%.1f direct_gpu_us_per_workload=%.1f"
                    + " mediation_us_per_submission=%.1f scan_us_per_submission=%.1f min=%.4f max=%.4f"
                    + " guest_accesses_per_submission=mmio_r:%.1f,mmio_w:%.1f,ram_r:%.1f,ram_w:%.1f%n",
                    name, side, side, submissions * 1e9 / mediatedNanos, submissions * 1e9 / directNanos,
                    directNanos / 1e3 / submissions, mediatedGpuNanos / 1e3 / submissions,
                    directTimed == 0 ? 0 : directGpuNanos / 1e3 / directTimed, (after.mediationNanos() - before.mediationNanos()) / 1e3 / submissions,
                    (after.scanNanos() - before.scanNanos()) / 1e3 / submissions, sorted[0], sorted[sorted.length - 1],
                    (double) platform.accesses[0] / submissions, (double) platform.accesses[1] / submissions,
                    (double) platform.accesses[2] / submissions, (double) platform.accesses[3] / submissions);
        }
    }

    /**
     * The guest's platform, timing each submission from the ELSP write that submits (the fourth dword, which
     * completes the latch; the three before it only fill it) to the first moment the guest sees the MSI count rise
     * (a poll of the count or the return of a wait for it), as the guest experiences it.
     */
    private static final class TimedPlatform extends InProcessPlatform {
        /** BCS ELSP (the engine's MMIO base + 0x230), where SubmitLoop submits. */
        private static final long ELSP = Engine.BCS.mmioBase() + 0x230;
        /** ELSP-to-MSI nanoseconds while recording (a growing array: no boxing on the measured path). */
        long[] latencies = new long[4096];
        int latencyCount;
        volatile boolean recording;
        /** Guest accesses while recording: MMIO reads, MMIO writes, RAM reads, RAM writes. */
        final long[] accesses = new long[4];
        private long elspAt = -1;
        private long msiBefore;
        private int elspDwords;

        TimedPlatform(InProcessGuest guest) {
            super(guest);
        }

        /** Forgets what warming up recorded. */
        void clear() {
            latencyCount = 0;
            Arrays.fill(accesses, 0);
        }

        @Override
        public long mmioRead(int bar, long offset, int size) {
            count(0);
            return super.mmioRead(bar, offset, size);
        }

        @Override
        public void ramRead(long gpa, MemorySegment dst) {
            count(2);
            super.ramRead(gpa, dst);
        }

        @Override
        public void ramWrite(long gpa, MemorySegment src) {
            count(3);
            super.ramWrite(gpa, src);
        }

        private void count(int kind) {
            if (recording) {
                accesses[kind]++;
            }
        }

        @Override
        public void mmioWrite(int bar, long offset, int size, long value) {
            count(1);
            if (offset == ELSP && ++elspDwords % 4 == 0) {
                msiBefore = super.msiCount();
                elspAt = System.nanoTime();
            }
            super.mmioWrite(bar, offset, size, value);
        }

        @Override
        public long msiCount() {
            return seen(super.msiCount());
        }

        @Override
        public long awaitMsi(long seen, Duration timeout) throws InterruptedException {
            return seen(super.awaitMsi(seen, timeout));
        }

        private long seen(long count) {
            if (elspAt >= 0 && count > msiBefore) {
                if (recording) {
                    if (latencyCount == latencies.length) {
                        latencies = Arrays.copyOf(latencies, 2 * latencyCount);
                    }
                    latencies[latencyCount++] = System.nanoTime() - elspAt;
                }
                elspAt = -1;
            }
            return count;
        }
    }

    private static long pct(long[] sorted, int percent) {
        return sorted[Math.min(sorted.length - 1, (int) ((long) sorted.length * percent / 100))];
    }

    private static double us(long nanos) {
        return nanos / 1e3;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + "," + f[1] + "," + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }
}
