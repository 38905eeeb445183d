package dev.jgvt.plugin.kvm.iommu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
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

    private final ReentrantLock lock = new ReentrantLock();
    private final TreeMap<Long, DmaMapping> map = new TreeMap<>(Comparator.comparing(Long::longValue, Long::compareUnsigned));
    private final List<UnmapListener> devices = new CopyOnWriteArrayList<>();
    private final int dmaEntryLimit;
    private int dmaAvail;
    private boolean dirtyTracking;
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
        return new IommuException(errno, code, message);
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private static boolean aligned(long v) {
        return (v & (PAGE_SIZE - 1)) == 0;
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
            if (dirtyTracking) {
                m.dirty = m.pinnedBitmap();
            }
            map.put(m.iova, m);
            dmaAvail--;
            if (m.remote != null) {
                remoteMappings++;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Any mapping intersecting {@code [first, last]} (inclusive, unsigned), or null. Lock held. */
    private DmaMapping findIntersecting(long first, long last) {
        Map.Entry<Long, DmaMapping> floor = map.floorEntry(first);
        if (floor != null && floor.getValue().contains(first)) {
            return floor.getValue();
        }
        Map.Entry<Long, DmaMapping> next = map.ceilingEntry(first);
        if (next != null && Long.compareUnsigned(next.getKey(), last) <= 0) {
            return next.getValue();
        }
        return null;
    }

    /** The mapping containing {@code address}, or null. Lock held. */
    private DmaMapping find(long address) {
        Map.Entry<Long, DmaMapping> floor = map.floorEntry(address);
        return floor != null && floor.getValue().contains(address) ? floor.getValue() : null;
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
                    lock.unlock();
                    try {
                        notifyDevices(m.iova, m.size);
                    } finally {
                        lock.lock();
                    }
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
                    lock.unlock();
                    try {
                        notifyDevices(m.iova, m.size);
                    } finally {
                        lock.lock();
                    }
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
     *     nothing stays pinned then), E2BIG (npage &gt; 512), EPERM (prot not allowed by a mapping)
     */
    public Pin pin(long iova, int npage, int prot) {
        long base = iova & ~(PAGE_SIZE - 1);
        String what = "pin iova " + hex(base) + " npage " + npage;
        if (npage < 1) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": npage must be at least 1");
        }
        if (npage > MAX_PIN_PAGES) {
            throw fail(Errno.E2BIG, ErrorCode.LIMIT_EXCEEDED, what + ": at most " + MAX_PIN_PAGES + " pages per pin");
        }
        if ((prot & ~(PROT_READ | PROT_WRITE)) != 0 || prot == 0) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": prot " + prot + " must be READ and/or WRITE only");
        }
        if (devices.isEmpty()) {
            throw fail(Errno.EINVAL, ErrorCode.ILLEGAL_STATE, what + ": no device registered to receive dma_unmap");
        }
        long[] addresses = new long[npage];
        MemorySegment[] hostPages = new MemorySegment[npage];
        lock.lock();
        try {
            int done = 0;
            try {
                for (; done < npage; done++) {
                    long page = base + ((long) done << PAGE_SHIFT);
                    if (done > 0 && page == 0) {
                        throw fail(Errno.EINVAL, ErrorCode.NOT_MAPPED, what + ": range wraps past 2^64");
                    }
                    DmaMapping m = find(page);
                    if (m == null) {
                        throw fail(Errno.EINVAL, ErrorCode.NOT_MAPPED, what + ": iova " + hex(page) + " is not mapped");
                    }
                    if ((m.prot & prot) != prot) {
                        throw fail(Errno.EPERM, ErrorCode.PERMISSION_DENIED,
                                what + ": prot " + prot + " not allowed by " + m);
                    }
                    if (m.remote != null) {
                        throw fail(Errno.EFAULT, ErrorCode.IO_ERROR, what + ": iova " + hex(page)
                                + " is mapped without host memory (DMA by messages), it cannot be pinned");
                    }
                    long index = (page - m.iova) >>> PAGE_SHIFT;
                    m.pins.merge(index, 1, Integer::sum);
                    m.markDirty(index);
                    addresses[done] = page;
                    hostPages[done] = m.backing.asSlice(index << PAGE_SHIFT, PAGE_SIZE);
                }
            } catch (IommuException e) {
                for (int i = 0; i < done; i++) {
                    unpinPage(addresses[i]);
                }
                throw e;
            }
        } finally {
            lock.unlock();
        }
        return new Pin(this, base, npage, hostPages);
    }

    /** Drops one reference on each of {@code npage} pages from {@code iova}. Unpinning a page not pinned is logged. */
    public void unpin(long iova, int npage) {
        long base = iova & ~(PAGE_SIZE - 1);
        lock.lock();
        try {
            for (int i = 0; i < npage; i++) {
                unpinPage(base + ((long) i << PAGE_SHIFT));
            }
        } finally {
            lock.unlock();
        }
    }

    private void unpinPage(long page) {
        DmaMapping m = find(page);
        if (m == null) {
            log.warn("unpin of iova {} which is not mapped", hex(page));
            return;
        }
        long index = (page - m.iova) >>> PAGE_SHIFT;
        Integer count = m.pins.get(index);
        if (count == null) {
            log.warn("unpin of iova {} which is not pinned", hex(page));
        } else if (count == 1) {
            m.pins.remove(index);
        } else {
            m.pins.put(index, count - 1);
        }
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
        long len = buf.byteSize();
        if (len == 0) {
            return;
        }
        String what = (write ? "dma write" : "dma read") + " iova " + hex(iova) + " length " + hex(len);
        long last = iova + len - 1;
        if (Long.compareUnsigned(last, iova) < 0) {
            throw fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": range wraps past 2^64");
        }
        boolean remote = false;
        lock.lock();
        try {
            long at = iova;
            while (true) {
                DmaMapping m = find(at);
                if (m == null) {
                    throw fail(Errno.EINVAL, ErrorCode.NOT_MAPPED, what + ": iova " + hex(at) + " is not mapped");
                }
                if ((write && (m.prot & PROT_WRITE) == 0) || (m.prot & PROT_READ) == 0) {
                    throw fail(Errno.EPERM, ErrorCode.PERMISSION_DENIED, what + ": not allowed by " + m);
                }
                remote |= m.remote != null;
                if (Long.compareUnsigned(m.last(), last) >= 0) {
                    break;
                }
                at = m.last() + 1;
            }
            if (!remote) {
                for (long done = 0; done < len; ) {
                    done += copyChunk(find(iova + done), iova + done, buf, done, write);
                }
                return;
            }
        } finally {
            lock.unlock();
        }
        // some of the range is reached by messages: those chunks are copied without the lock (they wait for
        // the client), so a failure part-way may leave a prefix written
        for (long done = 0; done < len; ) {
            long at = iova + done;
            DmaMapping m;
            long chunk;
            lock.lock();
            try {
                m = find(at);
                if (m == null) {
                    throw fail(Errno.EINVAL, ErrorCode.NOT_MAPPED, what + ": iova " + hex(at) + " is not mapped");
                }
                chunk = m.remote == null ? copyChunk(m, at, buf, done, write) : Math.min(len - done, m.size - (at - m.iova));
            } finally {
                lock.unlock();
            }
            if (m.remote != null) {
                m.remote.access(at, buf.asSlice(done, chunk), write);
            }
            done += chunk;
        }
    }

    /** Copies from {@code at} to the end of {@code m} or of {@code buf}; returns the bytes copied. Lock held. */
    private static long copyChunk(DmaMapping m, long at, MemorySegment buf, long done, boolean write) {
        long offset = at - m.iova;
        long chunk = Math.min(buf.byteSize() - done, m.size - offset);
        if (write) {
            MemorySegment.copy(buf, done, m.backing, offset, chunk);
            if (m.dirty != null) {
                for (long p = offset >>> PAGE_SHIFT; p <= (offset + chunk - 1) >>> PAGE_SHIFT; p++) {
                    m.markDirty(p);
                }
            }
        } else {
            MemorySegment.copy(m.backing, offset, buf, done, chunk);
        }
        return chunk;
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
        lock.lock();
        try {
            if (dirtyTracking) {
                return;
            }
            for (DmaMapping m : map.values()) {
                if (m.pages() > MAX_BITMAP_PAGES) {
                    throw fail(Errno.EINVAL, ErrorCode.LIMIT_EXCEEDED, "dirty tracking: " + m + " has more than 2^31 pages");
                }
            }
            for (DmaMapping m : map.values()) {
                m.dirty = m.pinnedBitmap();
            }
            dirtyTracking = true;
        } finally {
            lock.unlock();
        }
    }

    /** VFIO_IOMMU_DIRTY_PAGES STOP: drops the bitmaps. Idempotent. */
    public void stopDirtyTracking() {
        lock.lock();
        try {
            dirtyTracking = false;
            for (DmaMapping m : map.values()) {
                m.dirty = null;
            }
        } finally {
            lock.unlock();
        }
    }

    public boolean isDirtyTracking() {
        lock.lock();
        try {
            return dirtyTracking;
        } finally {
            lock.unlock();
        }
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
        String what = "dirty bitmap iova " + hex(iova) + " size " + hex(size);
        if (pgsize != PAGE_SIZE) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": pgsize " + pgsize + " is not " + PAGE_SIZE);
        }
        if (size == 0 || !aligned(iova) || !aligned(size)) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": size must be non-zero and both 4 KiB aligned");
        }
        long last = iova + size - 1;
        if (Long.compareUnsigned(last, iova) < 0) {
            throw fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": range wraps past 2^64");
        }
        long pages = size >>> PAGE_SHIFT;
        if (pages > MAX_BITMAP_PAGES) {
            throw fail(Errno.EINVAL, ErrorCode.LIMIT_EXCEEDED, what + ": more than 2^31 pages");
        }
        lock.lock();
        try {
            if (!dirtyTracking) {
                throw fail(Errno.EINVAL, ErrorCode.ILLEGAL_STATE, what + ": dirty tracking is not started");
            }
            DmaMapping head = find(iova);
            if (head != null && head.iova != iova) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": starts inside " + head);
            }
            DmaMapping tail = find(last);
            if (tail != null && tail.last() != last) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": ends inside " + tail);
            }
            long[] out = new long[(int) ((pages + 63) >>> 6)];
            for (DmaMapping m : map.subMap(iova, true, last, true).values()) {
                long shift = (m.iova - iova) >>> PAGE_SHIFT;
                for (long p = 0; p < m.pages(); p++) {
                    if (m.isDirty(p)) {
                        long bit = shift + p;
                        out[(int) (bit >>> 6)] |= 1L << (bit & 63);
                    }
                }
                m.dirty = m.pinnedBitmap();
            }
            return out;
        } finally {
            lock.unlock();
        }
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

    /** Host views of pinned pages: revocable (closed with the pin) when the backing is native memory. */
    static MemorySegment[] views(Arena arena, MemorySegment[] hostPages) {
        MemorySegment[] out = new MemorySegment[hostPages.length];
        for (int i = 0; i < hostPages.length; i++) {
            MemorySegment p = hostPages[i];
            out[i] = p.isNative() ? MemorySegment.ofAddress(p.address()).reinterpret(PAGE_SIZE, arena, null) : p;
        }
        return out;
    }
}
