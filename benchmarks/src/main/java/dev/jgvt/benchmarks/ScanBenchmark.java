package dev.jgvt.benchmarks;

import dev.jgvt.core.cmd.CommandScanner;
import dev.jgvt.core.cmd.RecordedEvents;
import dev.jgvt.core.cmd.ScanRejectedException;
import dev.jgvt.core.cmd.SegmentGraphicsMemory;
import dev.jgvt.core.cmd.SyntheticStreams;
import dev.jgvt.core.cmd.WorkloadContext;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Scan efficiency (performance-anchors.md GC1): the time to shadow-copy and scan a realistic privileged batch
 * (3D state, LRIs, PIPE_CONTROL with GGTT post-sync writes, MI_STORE_DATA_IMM, blits on BCS, runs of MI_NOOP)
 * against {@code MemorySegment.copy} of the same bytes, in the same run. Efficiency = copy time / scan time. The
 * target is set against the bare length walk instead ({@link ScanFloorBenchmark}, docs/decisions/0010): since the
 * scan includes the copy, a copy ratio of 0.5 would need a walk as fast as copy. {@link #main} runs both and
 * prints the ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ScanBenchmark {
    @Param({"4096", "65536", "1048576"})
    int size;

    @Param({"RCS", "BCS"})
    Engine engine;

    private Arena arena;
    private CommandScanner scanner;
    private WorkloadContext context;
    private MemorySegment stream;
    private MemorySegment target;
    private long base;

    @Setup(Level.Trial)
    public void setup() throws ScanRejectedException {
        GmRange aperture = new GmRange(0x100000, 0x4000000);
        GmRange hidden = new GmRange(0x8000000, 0x4000000);
        VgpuPartition partition = new VgpuPartition(aperture, hidden, 0, 4);
        arena = Arena.ofShared();
        stream = SyntheticStreams.batch(engine, size, 1, partition, arena);
        target = arena.allocate(size, 4096);
        base = hidden.base();
        scanner = CommandScanner.gen9();
        context = new WorkloadContext(engine, partition, new SegmentGraphicsMemory().map(base, stream), null,
                aperture.base(), new RecordedEvents());
        scanner.scanBatch(context, base);
        if (scanner.batches().size(0) != size) {
            throw new IllegalStateException("the stream was not scanned to its end");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scanner.close();
        arena.close();
    }

    /** Shadow-copy the batch from graphics memory and scan it. */
    @Benchmark
    public long scanAndShadow() throws ScanRejectedException {
        scanner.scanBatch(context, base);
        return scanner.batches().size(0);
    }

    /** The baseline: copy the same bytes. */
    @Benchmark
    public MemorySegment copy() {
        MemorySegment.copy(stream, 0, target, 0, size);
        return target;
    }

    /** Runs the benchmark and prints scan_efficiency per engine and size. */
    public static void main(String[] args) throws RunnerException {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(ScanBenchmark.class.getSimpleName()).forks(1).build()).run();
        Map<String, double[]> byParams = new HashMap<>();
        for (RunResult r : results) {
            String key = r.getParams().getParam("engine") + " " + r.getParams().getParam("size");
            double[] pair = byParams.computeIfAbsent(key, k -> new double[2]);
            boolean scan = r.getParams().getBenchmark().endsWith("scanAndShadow");
            pair[scan ? 0 : 1] = r.getPrimaryResult().getScore();
        }
        byParams.forEach((key, pair) -> System.out.printf("%s bytes: scan_efficiency=%.3f (scan %.0f ns, copy %.0f ns)%n",
                key, pair[1] / pair[0], pair[0], pair[1]));
    }
}
