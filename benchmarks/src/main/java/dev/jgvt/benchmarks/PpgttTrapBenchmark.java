package dev.jgvt.benchmarks;

import dev.jgvt.core.gtt.GttScratch;
import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.core.gtt.PpgttConfig;
import dev.jgvt.core.gtt.PpgttRoot;
import dev.jgvt.core.gtt.PpgttShadower;
import dev.jgvt.core.gtt.ShadowPpgtt;
import dev.jgvt.core.track.PageTrackRegistry;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The "massive update" workload (gHyvi): a guest rewrites every PTE of 8 page tables, then submits (the PPGTT is
 * pinned, which syncs parked and out-of-sync tables). Strict mode traps every write; relaxed mode unprotects a
 * table after {@code oosThreshold} trapped writes and re-syncs it in bulk at the submission. Reports ns per
 * guest PTE write and, as auxiliary counters, traps and PTE writes (traps per write = traps / writes).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(2)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PpgttTrapBenchmark {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int TABLES = 8;
    private static final int WRITES = TABLES * 512;

    @Param({"strict", "relaxed"})
    public String mode;

    private SimGpu gpu;
    private PteShadowBenchmark.Guest guest;
    private PinCache pins;
    private PageTrackRegistry registry;
    private GttScratch scratch;
    private PpgttShadower shadower;
    private ShadowPpgtt mm;
    private long[] pts;
    private long poolBase;
    private MemorySegment bytes;
    private int round;

    /** Counters JMH reports next to the time. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counts {
        public long traps;
        public long pteWrites;
    }

    @Setup(Level.Trial)
    public void setUp() {
        gpu = new SimGpu(new SimGpuConfig(1 << 16, 1L << 22, 256L << 20, true));
        guest = new PteShadowBenchmark.Guest(64L << 20);
        pins = new PinCache(guest, gpu, 1 << 20);
        registry = new PageTrackRegistry(Optional.of(guest));
        scratch = new GttScratch(gpu);
        shadower = new PpgttShadower(guest, registry, pins, gpu, scratch,
                "relaxed".equals(mode) ? PpgttConfig.RELAXED : PpgttConfig.STRICT);
        long pml4 = guest.alloc();
        long pdp = guest.alloc();
        long pd = guest.alloc();
        guest.ram.set(LONG, pml4 << 12, pdp << 12 | 3);
        guest.ram.set(LONG, pdp << 12, pd << 12 | 3);
        pts = new long[TABLES];
        for (int t = 0; t < TABLES; t++) {
            pts[t] = guest.alloc();
            guest.ram.set(LONG, pd << 12 | (long) t << 3, pts[t] << 12 | 3);
        }
        poolBase = guest.next;
        guest.next += 1024;
        mm = shadower.acquire(PpgttRoot.l4(pml4 << 12));
        bytes = Arena.ofAuto().allocate(8, 8);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        shadower.close();
        pins.close();
        scratch.close();
        gpu.close();
    }

    @Benchmark
    @OperationsPerInvocation(WRITES)
    public long massiveUpdate(Counts counts) {
        long before = guest.trackedWrites;
        int r = round++;
        for (int t = 0; t < TABLES; t++) {
            long base = pts[t] << 12;
            for (int i = 0; i < 512; i++) {
                guest.store(base | (long) i << 3, (poolBase + ((i + r) & 1023)) << 12 | 3, bytes, registry);
            }
        }
        if (!shadower.pin(mm)) {
            throw new IllegalStateException(mm.error());
        }
        shadower.unpin(mm);
        counts.traps += guest.trackedWrites - before;
        counts.pteWrites += WRITES;
        return shadower.shadowedEntries();
    }
}
