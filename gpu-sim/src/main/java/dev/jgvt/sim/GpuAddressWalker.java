package dev.jgvt.sim;

import static java.util.Objects.requireNonNull;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;

/**
 * The GPU's address translation: GGTT and PPGTT (4-level 48-bit and legacy 3-level 32-bit) walks with 4 KiB,
 * 64 KiB (a PDE with IPS) and 2 MiB (a PDE with PS) pages, then the device address space. Every simulated
 * GPU memory access goes through {@link #read}/{@link #write} (or {@link #translate}); a non-present entry,
 * a 1 GiB page or a device address with nothing behind it raises a typed {@link GpuFault}.
 *
 * <p>Entry layout (Gen8+): bit 0 present, bit 7 PS, bit 11 IPS, bits 45:12 address. This decoder is the
 * hardware's and is written independently of the core's codec.
 */
public final class GpuAddressWalker {
    private static final ValueLayout.OfLong ENTRY = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt DWORD = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long PRESENT = 1L;
    private static final long PS = 1L << 7;
    private static final long IPS = 1L << 11;
    private static final long ADDR_4K = ((1L << 46) - 1) & ~0xFFFL;
    private static final long ADDR_64K = ((1L << 46) - 1) & ~0xFFFFL;
    private static final long ADDR_2M = ((1L << 46) - 1) & ~0x1FFFFFL;

    private final SimGpu gpu;
    /** This walker's TLB, or null: the GPU's shared walker walks every time. */
    private final TranslationCache cache;

    GpuAddressWalker(SimGpu gpu) {
        this(gpu, null);
    }

    private GpuAddressWalker(SimGpu gpu, TranslationCache cache) {
        this.gpu = requireNonNull(gpu, "gpu is null");
        this.cache = cache;
    }

    /**
     * A walker of the same GPU with a translation cache of its own ({@link TranslationCache}), for one command
     * streamer: one thread at a time, {@link #invalidate()} when a slice starts and at every flush.
     */
    public GpuAddressWalker withTranslationCache() {
        return new GpuAddressWalker(gpu, new TranslationCache(gpu));
    }

    /** Forgets every cached translation (nothing for a walker without a cache). */
    public void invalidate() {
        if (cache != null) {
            cache.clear();
        }
    }

    /** Translations answered from this walker's cache so far (0 without one). */
    public long cacheHits() {
        return cache == null ? 0 : cache.hits();
    }

    /** Translations that walked the tables although this walker has a cache (0 without one). */
    public long cacheMisses() {
        return cache == null ? 0 : cache.misses();
    }

    /** Translates graphics address {@code va} in {@code space} to a device address; faults as described. */
    public long translate(GpuAddressSpace space, long va) {
        if (cache == null) {
            return walk(space, va);
        }
        long page = va >>> 12;
        int i = cache.find(space, page);
        if (i >= 0) {
            return cache.frame(i) | (va & 0xFFF);
        }
        long device = walkCached(space, va);
        MemorySegment segment = gpu.page(device);
        if (segment != null) {
            cache.put(space, page, device & ~0xFFFL, segment);
        }
        return device;
    }

    /**
     * The 4 KiB device page behind {@code va} (the byte at {@code va} is at offset {@code va & 0xFFF} of it: pages
     * of every size are 4 KiB aligned); faults as {@link #translate} does.
     */
    private MemorySegment frameOf(GpuAddressSpace space, long va) {
        if (cache == null) {
            return page(walk(space, va), va);
        }
        long page = va >>> 12;
        int i = cache.find(space, page);
        if (i >= 0) {
            return cache.segment(i);
        }
        long device = walkCached(space, va);
        MemorySegment segment = page(device, va);
        cache.put(space, page, device & ~0xFFFL, segment);
        return segment;
    }

    /**
     * A walk for a TLB miss: a PPGTT's page-directory entry for the 2 MiB region of {@code va} comes from the cache's
     * paging-structure part when it has it (so a miss reads one PTE, not four levels), else from the tables.
     */
    private long walkCached(GpuAddressSpace space, long va) {
        if (space instanceof GpuAddressSpace.Ggtt) {
            return translateGgtt(va);
        }
        long region = va >>> 21;
        int i = cache.findDirectory(space, region);
        long pde;
        if (i >= 0) {
            pde = cache.directory(i);
        } else {
            pde = pde(space, va);
            cache.putDirectory(space, region, pde);
        }
        return fromPde(pde, va);
    }

    /** The present page-directory entry of {@code va} in a PPGTT; faults on the levels above and on the PDE itself. */
    private long pde(GpuAddressSpace space, long va) {
        return switch (space) {
            case GpuAddressSpace.Ggtt g -> throw new IllegalArgumentException("the GGTT has no page directories");
            case GpuAddressSpace.Ppgtt4 p -> {
                if ((va >>> 48) != 0) {
                    throw new GpuFault(GpuFault.Kind.OUT_OF_RANGE, va, 4);
                }
                long e4 = entry(p.pml4(), (int) (va >>> 39) & 0x1FF, 4, va);
                long e3 = entry(e4 & ADDR_4K, (int) (va >>> 30) & 0x1FF, 3, va);
                if ((e3 & PS) != 0) {
                    throw new GpuFault(GpuFault.Kind.UNSUPPORTED_PAGE_SIZE, va, 3);
                }
                yield entry(e3 & ADDR_4K, (int) (va >>> 21) & 0x1FF, 2, va);
            }
            case GpuAddressSpace.Ppgtt3 p -> {
                yield entry(pageDirectory(p, va), (int) (va >>> 21) & 0x1FF, 2, va);
            }
        };
    }

    /** The page directory a 3-level PPGTT's PDP register gives for {@code va} (below 4 GiB, present). */
    private static long pageDirectory(GpuAddressSpace.Ppgtt3 p, long va) {
        if ((va >>> 32) != 0) {
            throw new GpuFault(GpuFault.Kind.OUT_OF_RANGE, va, 3);
        }
        long pd = p.pdp((int) (va >>> 30) & 3);
        if (pd == 0) {
            throw new GpuFault(GpuFault.Kind.NOT_PRESENT, va, 3);
        }
        return pd & ADDR_4K;
    }

    /** The page-table walk itself. */
    private long walk(GpuAddressSpace space, long va) {
        return switch (space) {
            case GpuAddressSpace.Ggtt g -> translateGgtt(va);
            case GpuAddressSpace.Ppgtt4 p -> {
                if ((va >>> 48) != 0) {
                    throw new GpuFault(GpuFault.Kind.OUT_OF_RANGE, va, 4);
                }
                long e = entry(p.pml4(), (int) (va >>> 39) & 0x1FF, 4, va);
                yield fromPdp(e & ADDR_4K, va);
            }
            case GpuAddressSpace.Ppgtt3 p -> {
                yield fromPd(pageDirectory(p, va), va);
            }
        };
    }

    /** Copies {@code dst.byteSize()} bytes at {@code va} of {@code space} into {@code dst}. */
    public void read(GpuAddressSpace space, long va, MemorySegment dst) {
        long done = 0;
        long length = dst.byteSize();
        while (done < length) {
            long at = va + done;
            int chunk = (int) Math.min(length - done, HugeConst.PAGE - (at & 0xFFF));
            MemorySegment.copy(frameOf(space, at), at & 0xFFF, dst, done, chunk);
            done += chunk;
        }
    }

    /** Copies {@code src} to {@code va} of {@code space}. */
    public void write(GpuAddressSpace space, long va, MemorySegment src) {
        long done = 0;
        long length = src.byteSize();
        while (done < length) {
            long at = va + done;
            int chunk = (int) Math.min(length - done, HugeConst.PAGE - (at & 0xFFF));
            MemorySegment.copy(src, done, frameOf(space, at), at & 0xFFF, chunk);
            done += chunk;
        }
    }

    /**
     * The 4 KiB page of device memory behind {@code va} in {@code space} (the byte at {@code va} is at offset
     * {@code va & 0xFFF} of it), for callers that copy runs within one page without a segment per run; faults
     * as {@link #translate} does.
     */
    public MemorySegment pageAt(GpuAddressSpace space, long va) {
        return frameOf(space, va);
    }

    /** Reads a little-endian 32-bit value at {@code va} (4-byte aligned). */
    public int readInt(GpuAddressSpace space, long va) {
        return frameOf(space, va).get(DWORD, va & 0xFFC);
    }

    /**
     * Reads {@code count} little-endian 32-bit values at {@code va} (4-byte aligned) of {@code space} into
     * {@code dst[offset ...]}, translating once per page; allocates nothing.
     */
    public void readInts(GpuAddressSpace space, long va, int[] dst, int offset, int count) {
        if ((va & 3) != 0) {
            throw new IllegalArgumentException("dword reads need a 4-byte aligned address: 0x" + Long.toHexString(va));
        }
        int done = 0;
        while (done < count) {
            long at = va + 4L * done;
            int chunk = (int) Math.min(count - done, (HugeConst.PAGE - (at & 0xFFF)) / 4);
            MemorySegment.copy(frameOf(space, at), DWORD, at & 0xFFF, dst, offset + done, chunk);
            done += chunk;
        }
    }

    /** Writes a little-endian 32-bit value at {@code va} (4-byte aligned). */
    public void writeInt(GpuAddressSpace space, long va, int value) {
        frameOf(space, va).set(DWORD, va & 0xFFC, value);
    }

    /** Reads the 64-bit value at device address {@code deviceAddress} (8-byte aligned); faults if unmapped. */
    public long readDevice(long deviceAddress) {
        return page(deviceAddress, deviceAddress).get(ENTRY, deviceAddress & 0xFF8);
    }

    /** What {@link #visitReachable} reports. */
    public interface ReachVisitor {
        /** A page table at {@code deviceAddress} is reachable at {@code level} (4 PML4 … 1 PT). */
        void table(int level, long deviceAddress);

        /** A present leaf of {@code size} bytes at {@code deviceAddress} is reachable. */
        void leaf(long deviceAddress, int size);

        /** A present entry points at a table with nothing behind it, or asks for a 1 GiB page. */
        void fault(GpuFault fault);
    }

    /**
     * Reports every table and leaf the hardware can reach from {@code space}, each distinct (table, level)
     * once; for the GGTT, the leaves of entries {@code [firstIndex, endIndex)} (ignored for PPGTTs).
     */
    public void visitReachable(GpuAddressSpace space, int firstIndex, int endIndex, ReachVisitor visitor) {
        requireNonNull(visitor, "visitor is null");
        Set<Long> seen = new HashSet<>();
        switch (space) {
            case GpuAddressSpace.Ggtt g -> {
                for (int i = firstIndex; i < endIndex; i++) {
                    long e = gpu.ggttRead(i);
                    if ((e & PRESENT) != 0) {
                        visitor.leaf(e & ADDR_4K, HugeConst.PAGE);
                    }
                }
            }
            case GpuAddressSpace.Ppgtt4 p -> visitTable(p.pml4() & ADDR_4K, 4, false, seen, visitor);
            case GpuAddressSpace.Ppgtt3 p -> {
                for (int i = 0; i < 4; i++) {
                    if (p.pdp(i) != 0) {
                        visitTable(p.pdp(i) & ADDR_4K, 2, false, seen, visitor);
                    }
                }
            }
        }
    }

    private void visitTable(long table, int level, boolean ips, Set<Long> seen, ReachVisitor visitor) {
        if (!seen.add(table << 3 | level << 1 | (ips ? 1 : 0))) {
            return;
        }
        MemorySegment page = gpu.page(table);
        if (page == null) {
            visitor.fault(new GpuFault(GpuFault.Kind.UNMAPPED_DEVICE_ADDRESS, table, level));
            return;
        }
        visitor.table(level, table);
        int stride = level == 1 && ips ? 16 : 1;
        for (int i = 0; i < 512; i += stride) {
            long e = page.getAtIndex(ENTRY, i);
            if ((e & PRESENT) == 0) {
                continue;
            }
            switch (level) {
                case 1 -> visitor.leaf(ips ? e & ADDR_64K : e & ADDR_4K, ips ? HugeConst.PAGE_64K : HugeConst.PAGE);
                case 2 -> {
                    if ((e & PS) != 0) {
                        visitor.leaf(e & ADDR_2M, HugeConst.HUGE);
                    } else {
                        visitTable(e & ADDR_4K, 1, (e & IPS) != 0, seen, visitor);
                    }
                }
                case 3 -> {
                    if ((e & PS) != 0) {
                        visitor.fault(new GpuFault(GpuFault.Kind.UNSUPPORTED_PAGE_SIZE, e & ADDR_4K, 3));
                    } else {
                        visitTable(e & ADDR_4K, 2, false, seen, visitor);
                    }
                }
                default -> visitTable(e & ADDR_4K, 3, false, seen, visitor);
            }
        }
    }

    private long translateGgtt(long va) {
        if (va < 0 || (va >>> 12) >= gpu.ggttEntries()) {
            throw new GpuFault(GpuFault.Kind.OUT_OF_RANGE, va, 0);
        }
        long e = gpu.ggttRead((int) (va >>> 12));
        if ((e & PRESENT) == 0) {
            throw new GpuFault(GpuFault.Kind.NOT_PRESENT, va, 0);
        }
        return (e & ADDR_4K) | (va & 0xFFF);
    }

    private long fromPdp(long pdpTable, long va) {
        long e = entry(pdpTable, (int) (va >>> 30) & 0x1FF, 3, va);
        if ((e & PS) != 0) {
            throw new GpuFault(GpuFault.Kind.UNSUPPORTED_PAGE_SIZE, va, 3);
        }
        return fromPd(e & ADDR_4K, va);
    }

    private long fromPd(long pdTable, long va) {
        return fromPde(entry(pdTable, (int) (va >>> 21) & 0x1FF, 2, va), va);
    }

    /** The device address of {@code va} below its present page-directory entry {@code e}. */
    private long fromPde(long e, long va) {
        if ((e & PS) != 0) {
            return (e & ADDR_2M) | (va & 0x1FFFFF);
        }
        if ((e & IPS) != 0) {
            long pte = entry(e & ADDR_4K, (int) (va >>> 12) & 0x1F0, 1, va);
            return (pte & ADDR_64K) | (va & 0xFFFF);
        }
        long pte = entry(e & ADDR_4K, (int) (va >>> 12) & 0x1FF, 1, va);
        return (pte & ADDR_4K) | (va & 0xFFF);
    }

    private long entry(long table, int index, int level, long va) {
        MemorySegment page = gpu.page(table);
        if (page == null) {
            throw new GpuFault(GpuFault.Kind.UNMAPPED_DEVICE_ADDRESS, table, level);
        }
        long e = page.getAtIndex(ENTRY, index);
        if ((e & PRESENT) == 0) {
            throw new GpuFault(GpuFault.Kind.NOT_PRESENT, va, level);
        }
        return e;
    }

    private MemorySegment page(long device, long va) {
        MemorySegment page = gpu.page(device);
        if (page == null) {
            throw new GpuFault(GpuFault.Kind.UNMAPPED_DEVICE_ADDRESS, device, 0);
        }
        return page;
    }
}
