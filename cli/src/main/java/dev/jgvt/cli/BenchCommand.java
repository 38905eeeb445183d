package dev.jgvt.cli;

import dev.jgvt.core.cmd.CommandScanner;
import dev.jgvt.core.cmd.RecordedEvents;
import dev.jgvt.core.cmd.ScanRejectedException;
import dev.jgvt.core.cmd.WalkFloor;
import dev.jgvt.core.cmd.SegmentGraphicsMemory;
import dev.jgvt.core.cmd.SyntheticStreams;
import dev.jgvt.core.cmd.WorkloadContext;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gvt bench}: quick in-process measurements; the JMH benchmarks module is the reference. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Quick in-process measurements (for trends; JMH in benchmarks/ is the reference).",
        subcommands = {BenchCommand.Scan.class, BenchSubmitCommand.class, BenchVfioUser.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:measured and printed", "1:the measured path produced wrong results", "2:bad options"})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * {@code gvt bench scan}: scan efficiency = (bytes scanned and shadow-copied per second) / (bytes copied per
     * second by MemorySegment.copy of the same stream), measured in this process after a warm-up, as the median
     * of several rounds that alternate the two. Rounds are timed in thread CPU time when the JVM offers it (so
     * other load on the machine does not skew the ratio), else in wall time; the output says which. It also
     * prints walk_floor_ratio = (copy of the stream into an {@code int[]} + a bare walk over its command lengths,
     * one table load per command and no policy) / (scan + shadow copy): how close the scanner is to the least
     * that any scanner finding every command boundary must do (docs/decisions/0012).
     */
    @Command(name = "scan", mixinStandardHelpOptions = true,
            description = "Print scan_efficiency=<ratio>: scan + shadow copy vs MemorySegment.copy of the same bytes,"
                    + " and walk_floor_ratio=<ratio>: vs a copy plus a bare command-length walk.",
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:measured and printed", "2:bad options"})
    static final class Scan implements Callable<Integer> {
        private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--size", defaultValue = "65536", description = "Stream size in bytes (default ${DEFAULT-VALUE}).")
        int size;

        @Option(names = "--engine", defaultValue = "rcs", converter = DecodeCommand.EngineConverter.class,
                description = "Engine whose realistic stream is generated (default ${DEFAULT-VALUE}).")
        Engine engine;

        @Option(names = "--rounds", defaultValue = "15", description = "Measured rounds (default ${DEFAULT-VALUE}).")
        int rounds;

        @Override
        public Integer call() throws ScanRejectedException {
            PrintWriter out = spec.commandLine().getOut();
            if (size < 64 || (size & 3) != 0 || rounds < 1) {
                spec.commandLine().getErr().println("gvt bench scan: --size must be a multiple of 4 >= 64, --rounds >= 1");
                return ErrorHandler.REJECTED;
            }
            GmRange aperture = new GmRange(0x100000, 0x4000000);
            GmRange hidden = new GmRange(0x8000000, 0x4000000);
            VgpuPartition partition = new VgpuPartition(aperture, hidden, 0, 4);
            try (Arena arena = Arena.ofConfined(); CommandScanner scanner = CommandScanner.gen9()) {
                MemorySegment stream = SyntheticStreams.batch(engine, size, 1, partition, arena);
                MemorySegment target = arena.allocate(size, 4096);
                SegmentGraphicsMemory gm = new SegmentGraphicsMemory().map(hidden.base(), stream);
                WorkloadContext context = new WorkloadContext(engine, partition, gm, null, aperture.base(),
                        new RecordedEvents());
                int[] lengths = WalkFloor.lengthTable(engine);
                int[] dwords = new int[size / 4];
                if (floorLoop(stream, dwords, lengths, 1) != size / 4) {
                    throw new IllegalStateException("the length walk did not reach the end of the stream");
                }
                int iterations = Math.max(20, (int) (64L * 1024 * 1024 / size));
                long sink = 0;
                long warmupEnd = System.nanoTime() + 2_000_000_000L;
                while (System.nanoTime() < warmupEnd) {
                    sink += scanLoop(scanner, context, hidden.base(), iterations / 4);
                    sink += copyLoop(stream, target, iterations / 4);
                    sink += floorLoop(stream, dwords, lengths, iterations / 4);
                }
                java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
                boolean cpu = threads.isCurrentThreadCpuTimeSupported() && threads.isThreadCpuTimeEnabled();
                double[] ratios = new double[rounds];
                double[] floorRatios = new double[rounds];
                long scanNanos = 0;
                long copyNanos = 0;
                long floorNanos = 0;
                for (int r = 0; r < rounds; r++) {
                    long t0 = cpu ? threads.getCurrentThreadCpuTime() : System.nanoTime();
                    sink += scanLoop(scanner, context, hidden.base(), iterations);
                    long t1 = cpu ? threads.getCurrentThreadCpuTime() : System.nanoTime();
                    sink += copyLoop(stream, target, iterations);
                    long t2 = cpu ? threads.getCurrentThreadCpuTime() : System.nanoTime();
                    sink += floorLoop(stream, dwords, lengths, iterations);
                    long t3 = cpu ? threads.getCurrentThreadCpuTime() : System.nanoTime();
                    ratios[r] = (double) (t2 - t1) / (t1 - t0);
                    floorRatios[r] = (double) (t3 - t2) / (t1 - t0);
                    scanNanos += t1 - t0;
                    copyNanos += t2 - t1;
                    floorNanos += t3 - t2;
                }
                Arrays.sort(ratios);
                Arrays.sort(floorRatios);
                double median = ratios[rounds / 2];
                double bytes = (double) size * iterations * rounds;
                out.printf("scan_efficiency=%.3f%n", median);
                out.printf("walk_floor_ratio=%.3f%n", floorRatios[rounds / 2]);
                out.printf("size=%d engine=%s rounds=%d clock=%s scan_gb_per_s=%.2f copy_gb_per_s=%.2f"
                        + " floor_gb_per_s=%.2f min=%.3f max=%.3f check=%d%n", size, engine.cliName(), rounds,
                        cpu ? "thread-cpu" : "wall", bytes / scanNanos, bytes / copyNanos, bytes / floorNanos, ratios[0],
                        ratios[rounds - 1], sink & 0xF);
            }
            return 0;
        }

        private static long scanLoop(CommandScanner scanner, WorkloadContext context, long gma, int n)
                throws ScanRejectedException {
            long total = 0;
            for (int i = 0; i < n; i++) {
                scanner.scanBatch(context, gma);
                total += scanner.batches().size(0);
            }
            return total;
        }

        /** Copies the stream into {@code dwords} and walks its command lengths, n times; the last walk's end. */
        private static long floorLoop(MemorySegment from, int[] dwords, int[] lengths, int n) {
            long end = 0;
            for (int i = 0; i < n; i++) {
                MemorySegment.copy(from, DW, 0, dwords, 0, dwords.length);
                end = WalkFloor.walk(dwords, lengths);
            }
            return end;
        }

        private static long copyLoop(MemorySegment from, MemorySegment to, int n) {
            long total = 0;
            for (int i = 0; i < n; i++) {
                MemorySegment.copy(from, 0, to, 0, from.byteSize());
                total += to.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i % from.byteSize());
            }
            return total;
        }
    }
}
