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
 * Shadow build rate for a guest mapping 1 GiB in 4 KiB pages (262144 PTEs in 512 page tables): one operation is
 * one shadowed PTE of a full build (pin of a fresh PPGTT) plus its teardown. {@code warm}: frames stay in the
 * pin cache between builds; {@code cold}: every build pins and DMA-maps all 262144 frames. Baseline
 * ({@link #plainCopy}): the same 512 guest page tables read through {@code GuestMemory} and their entries copied
 * into an array, per PTE (it does not depend on {@code pins}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ShadowBuildBenchmark {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int PTES = 1 << 18;

    @Param({"warm", "cold"})
    public String pins;

    private SimGpu gpu;
    private PinCache cache;
    private GttScratch scratch;
    private PpgttShadower shadower;
    private long root;
    private PteShadowBenchmark.Guest guest;
    private long pd;
    private final long[] plain = new long[PTES];
    private MemorySegment table;

    @Setup(Level.Trial)
    public void setUp() {
        gpu = new SimGpu(new SimGpuConfig(1 << 16, 1L << 22, 512L << 20, true));
        guest = new PteShadowBenchmark.Guest((1L << 30) + (8L << 20));
        table = Arena.ofAuto().allocate(4096, 4096);
        cache = new PinCache(guest, gpu, "warm".equals(pins) ? PTES : 0);
        PageTrackRegistry registry = new PageTrackRegistry(Optional.of(guest));
        scratch = new GttScratch(gpu);
        shadower = new PpgttShadower(guest, registry, cache, gpu, scratch, PpgttConfig.STRICT);
        long pml4 = guest.alloc();
        long pdp = guest.alloc();
        pd = guest.alloc();
        guest.ram.set(LONG, pml4 << 12, pdp << 12 | 3);
        guest.ram.set(LONG, pdp << 12, pd << 12 | 3);
        long data = 2048; // frames [2048, 2048 + 262144) = the 1 GiB being mapped
        for (int t = 0; t < 512; t++) {
            long pt = guest.alloc();
            guest.ram.set(LONG, pd << 12 | (long) t << 3, pt << 12 | 3);
            for (int i = 0; i < 512; i++) {
                guest.ram.set(LONG, pt << 12 | (long) i << 3, (data + t * 512L + i) << 12 | 3);
            }
        }
        root = pml4 << 12;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        shadower.close();
        cache.close();
        scratch.close();
        gpu.close();
    }

    @Benchmark
    @OperationsPerInvocation(PTES)
    public int buildAndTearDown() {
        ShadowPpgtt mm = shadower.acquire(PpgttRoot.l4(root));
        if (!shadower.pin(mm)) {
            throw new IllegalStateException(mm.error());
        }
        int pages = shadower.shadowPages();
        shadower.unpin(mm);
        shadower.release(mm);
        return pages;
    }

    /** Baseline: read each of the 512 guest page tables and copy its entries, as a build must at least do. */
    @Benchmark
    @OperationsPerInvocation(PTES)
    public long plainCopy() {
        long[] out = plain;
        MemorySegment buf = table;
        for (int t = 0; t < 512; t++) {
            long pde = guest.ram.get(LONG, pd << 12 | (long) t << 3);
            guest.read(pde & 0x0000_FFFF_FFFF_F000L, buf);
            for (int i = 0; i < 512; i++) {
                out[t << 9 | i] = buf.getAtIndex(LONG, i);
            }
        }
        return out[PTES - 1];
    }
}
