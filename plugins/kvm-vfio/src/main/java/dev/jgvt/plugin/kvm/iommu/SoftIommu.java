package dev.jgvt.plugin.kvm.iommu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A software IOMMU with the semantics of the kernel's VFIO type1 v2 backend for a container holding
 * only emulated (mediated) devices: MAP_DMA records ranges, pages are pinned lazily, and an unmap of a
 * range with pinned pages first asks the devices to let go ({@link UnmapListener}, the {@code dma_unmap}
 * callback). IOVAs are unsigned 64-bit values; every failure is an {@link IommuException} carrying the
 * errno type1 would return.
 *
 * <p>Rules: 4 KiB granularity ({@link #IOVA_PGSIZES}); MAP rejects zero, misaligned or wrapping ranges
 * (EINVAL), overlaps (EEXIST) and more than {@code dmaEntryLimit} mappings (ENOSPC); UNMAP removes whole
 * mappings only (EINVAL if the range bisects one) and returns the bytes removed; pins take at most 512
 * pages (E2BIG), need every page mapped (EINVAL) and the requested access allowed (EPERM), and are
 * reference-counted per page.
 *
 * <p>Threading: safe from any thread. One lock guards the map; it is released while devices are called
 * back during an unmap, as type1 does.
 */
public final class SoftIommu {
    private static final Logger log = LoggerFactory.getLogger(SoftIommu.class);

    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** type1's {@code iova_pgsizes} when no hardware domain exists: every multiple of 4 KiB. */
    public static final long IOVA_PGSIZES = 0xFFFF_FFFF_FFFF_F000L;
    /** type1's default {@code dma_entry_limit} (U16_MAX). */
    public static final int DEFAULT_DMA_ENTRY_LIMIT = 65535;
    /** {@code VFIO_PIN_PAGES_MAX_ENTRIES}. */
    public static final int MAX_PIN_PAGES = 512;
    /** How many times an unmap asks the devices to unpin a mapping before giving up. */
    public static final int UNMAP_RETRIES = 10;
    /** One dirty bitmap describes at most 2^31 pages (type1's MIGRATION cap limit). */
    public static final long MAX_BITMAP_PAGES = 1L << 31;

    /** MAP_DMA / pin protection bits (VFIO_DMA_MAP_FLAG_READ / WRITE). */
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    /** VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (not supported here) and VFIO_DMA_UNMAP_FLAG_ALL. */
    public static final int UNMAP_FLAG_GET_DIRTY_BITMAP = 1;
    public static final int UNMAP_FLAG_ALL = 2;

    /** Receives type1's {@code dma_unmap(iova, length)}: unpin everything in the range before returning. */
    @FunctionalInterface
    public interface UnmapListener {
        void dmaUnmapped(long iova, long length);
    }

    /** A registered device; closing it unregisters. */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Reaches guest memory of a mapping that has no host backing (a vfio-user region mapped without an fd,
     * served by DMA_READ/DMA_WRITE messages). Called without the IOMMU's lock held.
     */
    @FunctionalInterface
    public interface RemoteDma {
        void access(long iova, MemorySegment buf, boolean write);
    }

    /** A snapshot of one mapping. */
    public record MappingInfo(long iova, long size, int prot, long pinnedPages) {}

    private final IovaSpace space = new IovaSpace();
    private final ReentrantLock lock = space.lock;
    private final TreeMap<Long, DmaMapping> map = space.map;
    private final Pinning pinning = new Pinning(space);
    private final DmaCopy copy = new DmaCopy(space);
    private final DirtyLog dirty = new DirtyLog(space);
    private final List<UnmapListener> devices = new CopyOnWriteArrayList<>();
    private final int dmaEntryLimit;
    private int dmaAvail;
    private int remoteMappings;
    /** Whether every unmapped mapping is announced to the devices, not only those with pinned pages. */
    private volatile boolean announceEveryUnmap;

    public SoftIommu() {
        this(DEFAULT_DMA_ENTRY_LIMIT);
    }

    public SoftIommu(int dmaEntryLimit) {
        if (dmaEntryLimit < 1) {
            throw new IllegalArgumentException("dmaEntryLimit " + dmaEntryLimit + " must be positive");
        }
        this.dmaEntryLimit = dmaEntryLimit;
        this.dmaAvail = dmaEntryLimit;
    }

    private static IommuException fail(int errno, ErrorCode code, String message) {
        return IovaSpace.fail(errno, code, message);
    }

    private static String hex(long v) {
        return IovaSpace.hex(v);
    }

    private static boolean aligned(long v) {
        return IovaSpace.aligned(v);
    }

    /**
     * The range rules every MAP_DMA shares (also checked by callers before they commit resources to a map):
     * size non-zero, iova and size 4 KiB aligned (EINVAL); size below 2^63, so that the length of any unmap
     * stays a non-negative {@code long} end to end, and {@code iova + size - 1} not wrapping past 2^64
     * (EINVAL, OUT_OF_RANGE).
     */
    public static void checkMapRange(String what, long iova, long size) {
        if (size == 0 || !aligned(size) || !aligned(iova)) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": size must be non-zero and both 4 KiB aligned");
        }
        if (size < 0) {
            throw fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": size is 2^63 or more, such a mapping could not be unmapped");
        }
        if (Long.compareUnsigned(iova + size - 1, iova) < 0) {
            throw fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": range wraps past 2^64");
        }
    }

    /**
     * From now on every mapping an unmap removes is announced to the devices first ({@link UnmapListener}),
     * pinned or not (a vfio-user server: the device must forget any guest memory it looked at there).
     */
    public void announceEveryUnmap() {
        announceEveryUnmap = true;
    }

    // ---- devices -----------------------------------------------------------------------------------

    /** Registers a device that pins pages; unmaps of pinned ranges call it back. */
    public Registration register(UnmapListener device) {
        requireNonNull(device, "device is null");
        devices.add(device);
        return () -> devices.remove(device);
    }

    // ---- MAP_DMA -----------------------------------------------------------------------------------

    /**
     * MAP_DMA of {@code [iova, iova + size)} backed by the first {@code size} bytes of {@code backing}
     * with {@code prot} ({@link #PROT_READ}|{@link #PROT_WRITE}).
     *
     * @throws IommuException EINVAL (zero/misaligned/wrapping range, bad prot, backing too small or
     *     misaligned), EEXIST (overlap), ENOSPC (entry limit reached)
     */
    public void map(long iova, long size, int prot, MemorySegment backing) {
        map(iova, size, prot, backing, null);
    }

    /**
     * {@link #map(long, long, int, MemorySegment)} with {@code release} run once the mapping is removed (for
     * example the {@code munmap} of the backing), outside the lock; never run if the map fails.
     */
    public void map(long iova, long size, int prot, MemorySegment backing, Runnable release) {
        requireNonNull(backing, "backing is null");
        String what = "map iova " + hex(iova) + " size " + hex(size);
        checkProt(what, prot);
        checkMapRange(what, iova, size);
        if (Long.compareUnsigned(backing.byteSize(), size) < 0) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT,
                    what + ": backing segment has only " + hex(backing.byteSize()) + " bytes");
        }
        if (backing.isNative() && !aligned(backing.address())) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT,
                    what + ": backing address " + hex(backing.address()) + " is not 4 KiB aligned");
        }
        insert(what, new DmaMapping(iova, size, prot, backing.asSlice(0, size), null, release));
    }

    /**
     * A mapping without host backing: accesses go to {@code remote} (outside the lock), pins fail EFAULT
     * ({@link ErrorCode#IO_ERROR}: such memory cannot be pinned). Same range, overlap and limit rules as
     * {@link #map(long, long, int, MemorySegment)}.
     */
    public void mapRemote(long iova, long size, int prot, RemoteDma remote) {
        requireNonNull(remote, "remote is null");
        String what = "map iova " + hex(iova) + " size " + hex(size) + " without backing";
        checkProt(what, prot);
        checkMapRange(what, iova, size);
        insert(what, new DmaMapping(iova, size, prot, null, remote, null));
    }

    private static void checkProt(String what, int prot) {
        if ((prot & ~(PROT_READ | PROT_WRITE)) != 0 || prot == 0) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": prot " + prot + " must be READ and/or WRITE only");
        }
    }

    private void insert(String what, DmaMapping m) {
        lock.lock();
        try {
            DmaMapping clash = findIntersecting(m.iova, m.last());
            if (clash != null) {
                throw fail(Errno.EEXIST, ErrorCode.ALREADY_EXISTS, what + ": overlaps " + clash);
            }
            if (dmaAvail == 0) {
                throw fail(Errno.ENOSPC, ErrorCode.LIMIT_EXCEEDED,
                        what + ": " + dmaEntryLimit + " mappings exist (dma_entry_limit)");
            }
            dirty.seed(m);
            map.put(m.iova, m);
            dmaAvail--;
            if (m.remote != null) {
                remoteMappings++;
            }
        } finally {
            lock.unlock();
        }
    }

    private DmaMapping findIntersecting(long first, long last) {
        return space.findIntersecting(first, last);
    }

    private DmaMapping find(long address) {
        return space.find(address);
    }

    // ---- UNMAP_DMA ---------------------------------------------------------------------------------

    /**
     * UNMAP_DMA (v2): removes every mapping inside {@code [iova, iova + size)} and returns the bytes
     * removed (0 if none). With {@link #UNMAP_FLAG_ALL}, {@code iova} and {@code size} must be 0 and
     * everything is removed. Mappings with pinned pages are first announced to every registered device
     * ({@link UnmapListener#dmaUnmapped}); after {@link #UNMAP_RETRIES} calls with pins left the unmap
     * fails with EBUSY (where the kernel would BUG), leaving that mapping and the ones after it in place.
     *
     * @throws IommuException EINVAL (flags, alignment, wrap, bisected mapping), EBUSY (pins held)
     */
    public long unmap(long iova, long size, int flags) {
        String what = "unmap iova " + hex(iova) + " size " + hex(size);
        if ((flags & ~(UNMAP_FLAG_ALL | UNMAP_FLAG_GET_DIRTY_BITMAP)) != 0) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": unknown flags " + hex(flags));
        }
        if ((flags & UNMAP_FLAG_GET_DIRTY_BITMAP) != 0) {
            throw fail(Errno.EINVAL, ErrorCode.UNSUPPORTED, what + ": GET_DIRTY_BITMAP on unmap is not supported");
        }
        long first;
        long last;
        if ((flags & UNMAP_FLAG_ALL) != 0) {
            if (iova != 0 || size != 0) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": UNMAP_ALL needs iova 0 and size 0");
            }
            first = 0;
            last = -1L;
        } else {
            if (!aligned(iova) || size == 0 || !aligned(size)) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": size must be non-zero and both 4 KiB aligned");
            }
            if (Long.compareUnsigned(iova + size - 1, iova) < 0) {
                throw fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": range wraps past 2^64");
            }
            first = iova;
            last = iova + size - 1;
        }
        List<Runnable> releases = new ArrayList<>();
        lock.lock();
        try {
            DmaMapping head = find(first);
            if (head != null && head.iova != first) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": would bisect " + head);
            }
            DmaMapping tail = find(last);
            if (tail != null && tail.last() != last) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": would bisect " + tail);
            }
            long unmapped = 0;
            while (true) {
                Map.Entry<Long, DmaMapping> e = map.ceilingEntry(first);
                if (e == null || Long.compareUnsigned(e.getKey(), last) > 0) {
                    break;
                }
                DmaMapping m = e.getValue();
                if (announceEveryUnmap && !m.announced) {
                    m.announced = true;
                    notifyUnlocked(m);
                    continue;
                }
                if (!m.pins.isEmpty()) {
                    if (m.unmapTries >= UNMAP_RETRIES) {
                        m.unmapTries = 0;
                        log.error("{}: {} still has {} pinned pages after {} dma_unmap calls; refusing to unmap",
                                what, m, m.pins.size(), UNMAP_RETRIES);
                        throw fail(Errno.EBUSY, ErrorCode.BUSY, what + ": " + m + " still has " + m.pins.size()
                                + " pinned pages after " + UNMAP_RETRIES + " dma_unmap calls (" + hex(unmapped)
                                + " bytes were unmapped before it)");
                    }
                    m.unmapTries++;
                    notifyUnlocked(m);
                    continue;
                }
                map.remove(e.getKey());
                dmaAvail++;
                if (m.remote != null) {
                    remoteMappings--;
                }
                if (m.release != null) {
                    releases.add(m.release);
                }
                unmapped += m.size; // unsigned: each mapping is below 2^63, a sum over several may not be
            }
            return unmapped;
        } finally {
            lock.unlock();
            for (Runnable r : releases) {
                try {
                    r.run();
                } catch (RuntimeException ex) {
                    log.error("releasing an unmapped range failed", ex);
                }
            }
        }
    }

    /** UNMAP_DMA with the ALL flag. */
    public long unmapAll() {
        return unmap(0, 0, UNMAP_FLAG_ALL);
    }

    /** Announces {@code m} to the devices with the lock released (they may call back into the IOMMU). Lock held. */
    private void notifyUnlocked(DmaMapping m) {
        lock.unlock();
        try {
            notifyDevices(m.iova, m.size);
        } finally {
            lock.lock();
        }
    }

    private void notifyDevices(long iova, long size) {
        for (UnmapListener d : devices) {
            try {
                d.dmaUnmapped(iova, size);
            } catch (RuntimeException ex) {
                log.error("dma_unmap(iova {}, size {}) callback of {} failed", hex(iova), hex(size), d, ex);
            }
        }
    }

    // ---- pinning -----------------------------------------------------------------------------------

    /**
     * Pins {@code npage} consecutive pages from {@code iova} (the sub-page offset is ignored) for
     * {@code prot}; already pinned pages gain a reference. Every page may lie in a different mapping.
     * While dirty tracking is on, every pinned page is marked dirty (a pinned page may be written at any time).
     *
     * @throws IommuException EINVAL (npage &lt; 1, bad prot, no device registered, a page not mapped —
     *     nothing stays pinned then), E2BIG (npage &gt; 512), EPERM (prot not allowed by a mapping), EFAULT
     *     (a page mapped without host memory)
     */
    public Pin pin(long iova, int npage, int prot) {
        return pinning.pin(this, !devices.isEmpty(), iova, npage, prot);
    }

    /** Drops one reference on each of {@code npage} pages from {@code iova}. Unpinning a page not pinned is logged. */
    public void unpin(long iova, int npage) {
        pinning.unpin(iova, npage);
    }

    // ---- dma_rw --------------------------------------------------------------------------------------

    /**
     * Copies between {@code buf} and the IOVA range {@code [iova, iova + buf.byteSize())}, crossing
     * mapping boundaries. The whole range is checked first, so a failed write writes nothing. Writes mark
     * pages dirty while tracking is on.
     *
     * @throws IommuException EINVAL (a byte not mapped: NOT_MAPPED; the range wraps: OUT_OF_RANGE), EPERM
     *     (write to a mapping without WRITE, any access to one without READ)
     */
    public void dmaRw(long iova, MemorySegment buf, boolean write) {
        copy.dmaRw(iova, buf, write);
    }

    /** The mapping that starts exactly at {@code iova}, if any. */
    public java.util.Optional<MappingInfo> mappingAt(long iova) {
        lock.lock();
        try {
            DmaMapping m = map.get(iova);
            return m == null ? java.util.Optional.empty()
                    : java.util.Optional.of(new MappingInfo(m.iova, m.size, m.prot, m.pins.size()));
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@code iova} lies in a mapping. */
    public boolean isMapped(long iova) {
        lock.lock();
        try {
            return find(iova) != null;
        } finally {
            lock.unlock();
        }
    }

    // ---- dirty logging -----------------------------------------------------------------------------

    /** VFIO_IOMMU_DIRTY_PAGES START: a bitmap per mapping, seeded with the pinned pages. Idempotent. */
    public void startDirtyTracking() {
        dirty.startDirtyTracking();
    }

    /** VFIO_IOMMU_DIRTY_PAGES STOP: drops the bitmaps. Idempotent. */
    public void stopDirtyTracking() {
        dirty.stopDirtyTracking();
    }

    public boolean isDirtyTracking() {
        return dirty.isDirtyTracking();
    }

    /**
     * VFIO_IOMMU_DIRTY_PAGES GET_BITMAP for {@code [iova, iova + size)}: one bit per {@code pgsize} page,
     * bit {@code i} of word {@code i / 64} for the page at {@code iova + i * pgsize}. The range must start
     * and end on mapping boundaries (it may cover several mappings and gaps). Afterwards each covered
     * mapping's bitmap holds only its currently pinned pages.
     *
     * @throws IommuException EINVAL (tracking off, pgsize not 4096, misaligned/wrapping range, a mapping
     *     bisected, more than 2^31 pages)
     */
    public long[] dirtyBitmap(long iova, long size, long pgsize) {
        return dirty.dirtyBitmap(iova, size, pgsize);
    }

    // ---- introspection -----------------------------------------------------------------------------

    /** Mappings still allowed before ENOSPC (type1's DMA_AVAIL capability). */
    public int dmaAvail() {
        lock.lock();
        try {
            return dmaAvail;
        } finally {
            lock.unlock();
        }
    }

    /** The mappings in IOVA order. */
    public List<MappingInfo> mappings() {
        lock.lock();
        try {
            List<MappingInfo> out = new ArrayList<>(map.size());
            for (DmaMapping m : map.values()) {
                out.add(new MappingInfo(m.iova, m.size, m.prot, m.pins.size()));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** The pin reference count of the page containing {@code iova} (0 if unpinned or unmapped). */
    public int pinCount(long iova) {
        lock.lock();
        try {
            DmaMapping m = find(iova);
            return m == null ? 0 : m.pins.getOrDefault((iova - m.iova) >>> PAGE_SHIFT, 0);
        } finally {
            lock.unlock();
        }
    }
}
