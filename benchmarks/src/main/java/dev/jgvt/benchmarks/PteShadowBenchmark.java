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
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PageTracker;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.SplittableRandom;
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
 * ns per shadowed PTE for a random-update workload: a guest rewrites random PTEs of 8 page tables (4096
 * entries) to random frames of a 16 Ki-frame pool; each write is committed to guest RAM and then delivered as a
 * tracked write (the path from {@code DeviceModel.trackedWrite}: registry lookup, decode, pin-cache lookup,
 * shadow entry write, old reference dropped). Baseline in the same run: the same commits plus a plain copy of
 * the same entries into a shadow array. Pins are warm (the pool stays in the pin cache).
 *
 * <p>A second baseline, {@link #memoryFloor}, does the same commits plus only the memory touches a pin-cache
 * hit and release cannot avoid, laid out like the pin cache (an index of the same size probed for the new
 * frame's id, its count and device address, the shadow entry, the old frame's count), with nothing else: the
 * difference between the pools there is the cost of the cache misses alone.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(2)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PteShadowBenchmark {
    static final int BATCH = 4096;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int TABLES = 8;

    /** Distinct guest frames the updates point at (all kept in the pin cache). */
    @Param({"16384", "1024"})
    public int pool;

    private SimGpu gpu;
    private Guest guest;
    private PinCache pins;
    private PageTrackRegistry registry;
    private GttScratch scratch;
    private PpgttShadower shadower;
    private long[] gpas;
    private long[] values;
    private long[] plainShadow;
    private MemorySegment bytes;
    private int cursor;
    private long[] floorIndex;
    private long[] floorMeta;
    private int[] floorOld;

    @Setup(Level.Trial)
    public void setUp() {
        gpu = new SimGpu(new SimGpuConfig(1 << 16, 1L << 22, 256L << 20, true));
        guest = new Guest(128L << 20);
        pins = new PinCache(guest, gpu, 1 << 20);
        registry = new PageTrackRegistry(Optional.of(guest));
        scratch = new GttScratch(gpu);
        shadower = new PpgttShadower(guest, registry, pins, gpu, scratch, PpgttConfig.STRICT);
        long pml4 = guest.alloc();
        long pdp = guest.alloc();
        long pd = guest.alloc();
        guest.ram.set(LONG, pml4 << 12, pdp << 12 | 3);
        guest.ram.set(LONG, pdp << 12, pd << 12 | 3);
        long[] pts = new long[TABLES];
        long poolBase = guest.next + TABLES;
        for (int t = 0; t < TABLES; t++) {
            pts[t] = guest.alloc();
            guest.ram.set(LONG, pd << 12 | (long) t << 3, pts[t] << 12 | 3);
            for (int i = 0; i < 512; i++) {
                guest.ram.set(LONG, pts[t] << 12 | (long) i << 3, (poolBase + t * 512L + i) << 12 | 3);
            }
        }
        guest.next = poolBase + Math.max(pool, TABLES * 512);
        ShadowPpgtt mm = shadower.acquire(PpgttRoot.l4(pml4 << 12));
        if (!shadower.pin(mm)) {
            throw new IllegalStateException(mm.error());
        }
        for (long f = poolBase; f < poolBase + pool; f++) {
            pins.acquire(f);
            pins.release(f);
        }
        SplittableRandom r = new SplittableRandom(42);
        gpas = new long[1 << 16];
        values = new long[1 << 16];
        for (int i = 0; i < gpas.length; i++) {
            gpas[i] = pts[r.nextInt(TABLES)] << 12 | (long) r.nextInt(512) << 3;
            values[i] = (poolBase + r.nextInt(pool)) << 12 | 3;
        }
        plainShadow = new long[TABLES * 512];
        bytes = Arena.ofAuto().allocate(8, 8);
        // the memory floor's copy of the pin cache's layout: frame poolBase + n has id n + 1
        int frames = Math.max(pool, TABLES * 512);
        int capacity = 2048;
        while (frames * 4 > capacity * 3) {
            capacity <<= 1;
        }
        floorIndex = new long[capacity];
        java.util.Arrays.fill(floorIndex, -1);
        for (int n = 0; n < frames; n++) {
            long f = poolBase + n;
            int s = floorSlot(f, capacity - 1);
            while (floorIndex[s] != -1) {
                s = (s + 1) & (capacity - 1);
            }
            floorIndex[s] = f << 24 | (n + 1);
        }
        floorMeta = new long[2 * (frames + 1)];
        for (int n = 0; n < frames; n++) {
            floorMeta[2 * (n + 1)] = (1L << 32) + ((long) n << 12);
        }
        floorOld = new int[TABLES * 512];
        for (int n = 0; n < floorOld.length; n++) {
            floorOld[n] = n + 1;
            floorMeta[2 * (n + 1) + 1] = 1;
        }
        if (pts[TABLES - 1] - pts[0] != TABLES - 1) {
            throw new IllegalStateException("page tables are not consecutive");
        }
    }

    private static int floorSlot(long gfn, int mask) {
        long h = gfn * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        shadower.close();
        pins.close();
        scratch.close();
        gpu.close();
    }

    /** Commit + tracked write → re-shadow, per PTE. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long shadowedPte() {
        int c = cursor;
        long[] g = gpas;
        long[] v = values;
        MemorySegment ram = guest.ram;
        for (int i = 0; i < BATCH; i++) {
            int k = (c + i) & (g.length - 1);
            ram.set(LONG, g[k], v[k]);
            bytes.set(LONG, 0, v[k]);
            registry.dispatch(g[k], bytes);
        }
        cursor = c + BATCH;
        return shadower.shadowedEntries();
    }

    /** Baseline: the same commits plus a plain copy of each entry into a shadow array. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long plainCopy() {
        int c = cursor;
        long[] g = gpas;
        long[] v = values;
        long[] shadow = plainShadow;
        MemorySegment ram = guest.ram;
        for (int i = 0; i < BATCH; i++) {
            int k = (c + i) & (g.length - 1);
            ram.set(LONG, g[k], v[k]);
            bytes.set(LONG, 0, v[k]);
            shadow[(int) ((g[k] >>> 3) & (shadow.length - 1))] = bytes.get(LONG, 0);
        }
        cursor = c + BATCH;
        return shadow[c & (shadow.length - 1)];
    }

    /**
     * Baseline: the same commits plus the dependent memory touches of a pin-cache hit and release, and nothing
     * else: probe the index for the new frame, count it and read its device address, write the shadow entry,
     * un-count the frame the entry held before.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long memoryFloor() {
        int c = cursor;
        long[] g = gpas;
        long[] v = values;
        long[] shadow = plainShadow;
        long[] index = floorIndex;
        long[] meta = floorMeta;
        int[] old = floorOld;
        int mask = index.length - 1;
        MemorySegment ram = guest.ram;
        for (int i = 0; i < BATCH; i++) {
            int k = (c + i) & (g.length - 1);
            ram.set(LONG, g[k], v[k]);
            bytes.set(LONG, 0, v[k]);
            long ge = bytes.get(LONG, 0);
            long gfn = ge >>> 12;
            int s = floorSlot(gfn, mask);
            long key;
            while ((key = index[s]) >>> 24 != gfn) {
                s = (s + 1) & mask;
            }
            int id = (int) (key & 0xFF_FFFF);
            meta[2 * id + 1]++;
            int slot = (int) ((g[k] >>> 3) & (shadow.length - 1));
            shadow[slot] = meta[2 * id] | (ge & 0xFFF);
            int before = old[slot];
            old[slot] = id;
            meta[2 * before + 1]--;
        }
        cursor = c + BATCH;
        return shadow[c & (shadow.length - 1)];
    }

    /**
     * A minimal in-process guest for benchmarks: RAM in one segment, pins are views (counted), tracking is a
     * bitmap. Writes are committed by the benchmark itself before it reports them.
     */
    static final class Guest implements GuestMemory, GuestPages, PageTracker {
        final MemorySegment ram;
        final long frames;
        final boolean[] tracked;
        long next = 16;
        long trackedWrites;

        Guest(long bytes) {
            ram = Arena.ofAuto().allocate(bytes, 2 * 1024 * 1024);
            frames = bytes >>> 12;
            tracked = new boolean[(int) frames];
        }

        long alloc() {
            return next++;
        }

        /** A guest CPU store: committed, then reported when the frame is tracked. */
        void store(long gpa, long value, MemorySegment scratch8, PageTrackRegistry registry) {
            ram.set(LONG, gpa, value);
            if (tracked[(int) (gpa >>> 12)]) {
                trackedWrites++;
                scratch8.set(LONG, 0, value);
                registry.dispatch(gpa, scratch8);
            }
        }

        @Override
        public void read(long gpa, MemorySegment dst) {
            check(gpa, dst.byteSize());
            MemorySegment.copy(ram, gpa, dst, 0, dst.byteSize());
        }

        @Override
        public void write(long gpa, MemorySegment src) {
            check(gpa, src.byteSize());
            MemorySegment.copy(src, 0, ram, gpa, src.byteSize());
        }

        @Override
        public boolean isBacked(long gfn) {
            return gfn >= 0 && gfn < frames;
        }

        private void check(long gpa, long length) {
            if (gpa < 0 || gpa + length > frames << 12) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "gpa 0x" + Long.toHexString(gpa));
            }
        }

        @Override
        public PinnedPages pin(long gfn, int count, Access access) {
            if (gfn < 0 || count < 1 || gfn + count > frames) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "gfn 0x" + Long.toHexString(gfn));
            }
            return new PinnedPages() {
                private boolean closed;

                @Override
                public long gfn() {
                    return gfn;
                }

                @Override
                public int count() {
                    return count;
                }

                @Override
                public MemorySegment page(int index) {
                    return ram.asSlice((gfn + index) << 12, 4096);
                }

                @Override
                public Optional<MemorySegment> contiguous() {
                    return Optional.of(ram.asSlice(gfn << 12, (long) count << 12));
                }

                @Override
                public boolean isClosed() {
                    return closed;
                }

                @Override
                public void close() {
                    closed = true;
                }
            };
        }

        @Override
        public void track(long gfn) {
            tracked[(int) gfn] = true;
        }

        @Override
        public void untrack(long gfn) {
            tracked[(int) gfn] = false;
        }

        @Override
        public boolean isTracked(long gfn) {
            return tracked[(int) gfn];
        }
    }
}
