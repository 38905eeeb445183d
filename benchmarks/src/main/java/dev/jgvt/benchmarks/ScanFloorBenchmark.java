package dev.jgvt.benchmarks;

import dev.jgvt.core.cmd.CommandScanner;
import dev.jgvt.core.cmd.CommandTable;
import dev.jgvt.core.cmd.RecordedEvents;
import dev.jgvt.core.cmd.ScanRejectedException;
import dev.jgvt.core.cmd.SegmentGraphicsMemory;
import dev.jgvt.core.cmd.SyntheticStreams;
import dev.jgvt.core.cmd.WalkFloor;
import dev.jgvt.core.cmd.WorkloadContext;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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

/**
 * The floor under {@link ScanBenchmark}: what walking the same stream's command lengths costs with no policy at
 * all, next to {@code MemorySegment.copy} of the same bytes. Each walk uses a private length table built from the
 * public {@link CommandTable#find} (bits 0..4 length bits, bits 8..15 fixed length, 0 = unknown), so it does
 * exactly one table load per command, like the scanner.
 *
 * <ul>
 *   <li>{@code copy}: the baseline of scan_efficiency.
 *   <li>{@code walkSegment}: copy into a native buffer, then walk that buffer (segment in a local, long offsets).
 *   <li>{@code walkIntArray}: copy into a heap {@code int[]}, then walk it with int indexes.
 *   <li>{@code walkOnly}: walk an {@code int[]} that already holds the stream (no copy at all).
 *   <li>{@code walkPredicted}: {@code walkOnly} with the common case (an 8-bit length field) on its own branch.
 *   <li>{@code uniformWalk}, {@code uniformScan}: a predictable stream of the same size (one command without a
 *       handler repeated: 3DSTATE_VS of 9 dwords on RCS, XY_SRC_COPY_BLT of 10 on BCS): the predicted walk over an {@code int[]}, and the full scanner (shadow copy
 *       included). The gap between it and the synthetic stream is what branch mispredictions cost.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ScanFloorBenchmark {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Param({"4096", "65536", "1048576"})
    int size;

    @Param({"RCS", "BCS"})
    Engine engine;

    private Arena arena;
    private MemorySegment stream;
    private MemorySegment target;
    private int[] heap;
    private int[] lengths;
    private int[] uniform;
    private CommandScanner scanner;
    private WorkloadContext uniformContext;
    private long base;

    @Setup(Level.Trial)
    public void setup() {
        GmRange aperture = new GmRange(0x100000, 0x4000000);
        GmRange hidden = new GmRange(0x8000000, 0x4000000);
        VgpuPartition partition = new VgpuPartition(aperture, hidden, 0, 4);
        arena = Arena.ofShared();
        stream = SyntheticStreams.batch(engine, size, 1, partition, arena);
        target = arena.allocate(size, 4096);
        heap = new int[size / 4];
        MemorySegment.copy(stream, DW, 0, heap, 0, size / 4);
        CommandTable table = CommandTable.gen9();
        lengths = WalkFloor.lengthTable(engine);
        uniform = new int[size / 4];
        int stride = engine == Engine.RCS ? 9 : 10;
        int header = table.byName(engine == Engine.RCS ? "3DSTATE_VS" : "XY_SRC_COPY_BLT").header(stride);
        int i = 0;
        for (; i + stride < uniform.length; i += stride) {
            uniform[i] = header;
        }
        for (; i < uniform.length - 1; i++) {
            uniform[i] = 0x01800000; // MI_SET_PREDICATE (one dword)
        }
        uniform[uniform.length - 1] = 0x0A << 23; // MI_BATCH_BUFFER_END
        MemorySegment uniformStream = arena.allocate(size, 4096);
        MemorySegment.copy(uniform, 0, uniformStream, DW, 0, uniform.length);
        base = hidden.base();
        scanner = CommandScanner.gen9();
        uniformContext = new WorkloadContext(engine, partition, new SegmentGraphicsMemory().map(base, uniformStream),
                null, aperture.base(), new RecordedEvents());
        if (walkOnly() != size / 4 || uniformWalk() != size / 4 || uniformScan() != size) {
            throw new IllegalStateException("the walk did not reach the end of the stream");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scanner.close();
        arena.close();
    }

    @Benchmark
    public MemorySegment copy() {
        MemorySegment.copy(stream, 0, target, 0, size);
        return target;
    }

    @Benchmark
    public long walkSegment() {
        MemorySegment.copy(stream, 0, target, 0, size);
        MemorySegment seg = target;
        int[] lens = lengths;
        long lim = size;
        long pos = 0;
        while (pos < lim) {
            int header = seg.get(DW, pos);
            int e = lens[header >>> 16];
            if (e == 0) {
                return -1;
            }
            int bits = e & 31;
            int len = bits == 0 ? e >>> 8 : (header & ((1 << bits) - 1)) + 2;
            pos += (long) len << 2;
        }
        return pos;
    }

    @Benchmark
    public int walkIntArray() {
        MemorySegment.copy(stream, DW, 0, heap, 0, size >>> 2);
        return walk(heap, lengths);
    }

    @Benchmark
    public int walkOnly() {
        return walk(heap, lengths);
    }

    /** Like {@link #walkOnly} but with the common 8-bit length field on a predicted branch of its own. */
    @Benchmark
    public int walkPredicted() {
        return WalkFloor.walk(heap, lengths);
    }

    @Benchmark
    public int uniformWalk() {
        return WalkFloor.walk(uniform, lengths);
    }

    @Benchmark
    public long uniformScan() {
        try {
            scanner.scanBatch(uniformContext, base);
        } catch (ScanRejectedException e) {
            throw new IllegalStateException(e);
        }
        return scanner.batches().size(0);
    }

    private static int walk(int[] dws, int[] lens) {
        int lim = dws.length;
        int pos = 0;
        while (pos < lim) {
            int header = dws[pos];
            int e = lens[header >>> 16];
            if (e == 0) {
                return -1;
            }
            int bits = e & 31;
            int len = bits == 0 ? e >>> 8 : (header & ((1 << bits) - 1)) + 2;
            pos += len;
        }
        return pos;
    }
}
