package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostGpu;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vGPU's cache of pinned, DMA-mapped guest frames: gfn → (pinned page, device address, reference count),
 * shared by the GGTT shadow, the PPGTT shadows and the display. A frame is pinned ({@link GuestPages#pin})
 * and mapped ({@link HostGpu#dmaMap}) on its first {@link #acquire} and stays so while referenced; when its
 * count drops to zero it is kept, idle, up to {@code idleLimit} frames (oldest idle first out), so a guest
 * that remaps the same frames does not pay a pin and a map each time.
 *
 * <p>{@link #dmaUnmapped} implements the SPI's contract 2: it tells every {@link DmaInvalidationListener}
 * (shadows point entries at scratch and drop their references; the submission layer fails in-flight work),
 * then unmaps and unpins every frame left in the range, idle or not, before returning.
 *
 * <p>Layout (structure of arrays, no object per frame): a frame gets a small integer id; the open-addressing
 * index holds {@code gfn << 24 | id} in one word, so a probe reads one array; the device address and the
 * reference count of id {@code n} sit next to each other in {@code meta[2n], meta[2n + 1]}, so a hit touches
 * two cache lines and a release through a handle one. Holders on the hot path (the shadow PPGTT) keep a
 * handle ({@link #pin}: id plus a generation) and release without a lookup; a handle whose frame was dropped
 * by a DMA unmap is recognised by its generation and ignored. At most 2<sup>24</sup> - 1 frames are cached at
 * once and gfns must be below 2<sup>39</sup>; beyond either a frame yields {@link #NO_MAPPING} (counted).
 *
 * <p>Used under the vGPU's lock; not thread-safe. Never throws for a guest's doing: a frame that cannot be
 * pinned or mapped yields {@link #NO_MAPPING} and is counted.
 */
public final class PinCache {
    /** Returned by {@link #acquire} when the frame cannot be used (not guest RAM, unmapped, no DMA space). */
    public static final long NO_MAPPING = -1;
    /** The handle {@link #pin} returns when the frame cannot be used; never a valid handle. */
    static final long NO_HANDLE = 0;

    private static final Logger log = LoggerFactory.getLogger(PinCache.class);
    private static final long ID_MASK = FrameIndex.ID_MASK;
    /** meta[2n + 1]: generation in bits 63:32, queued-for-eviction in bit 31, reference count in bits 30:0. */
    private static final long QUEUED = 1L << 31;
    private static final long REFS = QUEUED - 1;

    private final GuestPages pages;
    private final HostGpu gpu;
    private final int idleLimit;
    private final FrameIndex index = new FrameIndex();
    // per id: meta[2n] device address, meta[2n + 1] generation | queued | refs; cold: gfn, pin, page
    private long[] meta;
    private long[] gfnOf;
    private PinnedPages[] pinOf;
    private MemorySegment[] pageOf;
    private int nextId = 1;
    private int[] freeIds = new int[16];
    private int freeCount;
    private final IdleQueue idleQueue = new IdleQueue(this::live);
    private final HugeRuns huge;
    private final List<DmaInvalidationListener> listeners = new CopyOnWriteArrayList<>();
    private int idle;
    private long pinFailures;
    private long invalidations;

    public PinCache(GuestPages pages, HostGpu gpu, int idleLimit) {
        this.pages = requireNonNull(pages, "pages is null");
        this.gpu = requireNonNull(gpu, "gpu is null");
        if (idleLimit < 0) {
            throw new IllegalArgumentException("idle limit must be >= 0: " + idleLimit);
        }
        this.idleLimit = idleLimit;
        this.huge = new HugeRuns(pages, gpu);
        meta = new long[2 * 1024];
        gfnOf = new long[1024];
        pinOf = new PinnedPages[1024];
        pageOf = new MemorySegment[1024];
        for (int id = 0; id < 1024; id++) {
            meta[2 * id + 1] = 1L << 32;
        }
    }

    /** Registers a listener told about every {@link #dmaUnmapped} range before pins are dropped. */
    public void addListener(DmaInvalidationListener listener) {
        listeners.add(requireNonNull(listener, "listener is null"));
    }

    public void removeListener(DmaInvalidationListener listener) {
        listeners.remove(listener);
    }

    /**
     * Takes a reference on frame {@code gfn}, pinning and mapping it if needed; returns its device address or
     * {@link #NO_MAPPING}. Allocation-free when the frame is cached.
     */
    public long acquire(long gfn) {
        long handle = pin(gfn);
        return handle == NO_HANDLE ? NO_MAPPING : meta[2 * (int) handle];
    }

    /**
     * As {@link #acquire} but returns a handle ({@link #NO_HANDLE} when the frame cannot be used), so the holder
     * can {@link #unpin} without a lookup and read the address with {@link #dma}. The shadow PPGTT's hot path.
     */
    long pin(long gfn) {
        int id = index.find(gfn);
        if (id == 0) {
            id = pinAndMap(gfn);
            if (id == 0) {
                return NO_HANDLE;
            }
        }
        int m = 2 * id + 1;
        long word = meta[m];
        idle -= isZero(word & REFS); // no branch: whether a frame was idle is as random as the guest's writes
        meta[m] = word + 1;
        return (word & ~(QUEUED | REFS)) | id;
    }

    /** The device address of a live handle from {@link #pin}. */
    long dma(long handle) {
        return meta[2 * (int) handle];
    }

    /** The frame of handle {@code handle}, or -1 when it is {@link #NO_HANDLE} or its frame was dropped since. */
    long gfn(long handle) {
        int id = (int) handle;
        if (handle == NO_HANDLE || (meta[2 * id + 1] >>> 32) != (handle >>> 32)) {
            return -1;
        }
        return gfnOf[id];
    }

    /** Drops one reference taken by {@link #pin}; ignored when the frame was dropped by a DMA unmap. */
    void unpin(long handle) {
        int m = 2 * (int) handle + 1;
        long word = meta[m];
        if ((word >>> 32) != (handle >>> 32) || (word & REFS) == 0) {
            return;
        }
        drop1((int) handle, word);
    }

    /** Drops one reference taken by {@link #acquire}; a frame with none left becomes idle. */
    public void release(long gfn) {
        int id = index.find(gfn);
        long word = id == 0 ? 0 : meta[2 * id + 1];
        if ((word & REFS) == 0) {
            log.debug("release of gfn 0x{} that holds no reference", Long.toHexString(gfn));
            return;
        }
        drop1(id, word);
    }

    private void drop1(int id, long word) {
        word--;
        idle += isZero(word & REFS);
        if ((word & (QUEUED | REFS)) == 0) {
            // idle now and not in the queue yet
            word |= QUEUED;
            idleQueue.add((word & ~(QUEUED | REFS)) | id);
        }
        meta[2 * id + 1] = word;
        if (idle > idleLimit) {
            evictIdle();
        }
    }

    /** 1 when {@code refs} (a count, 0 or positive) is 0, else 0; without a branch. */
    private static int isZero(long refs) {
        return (int) ((refs - 1) >>> 63);
    }

    private void evictIdle() {
        while (idle > idleLimit && !idleQueue.isEmpty()) {
            long victim = idleQueue.poll();
            int id = (int) victim;
            long word = meta[2 * id + 1];
            if ((word >>> 32) != (victim >>> 32)) {
                continue; // dropped since it was queued
            }
            meta[2 * id + 1] = word & ~QUEUED;
            if ((word & REFS) == 0) {
                idle--;
                drop(id);
            }
        }
    }

    /**
     * Takes a reference on the 2 MiB run of 512 frames from {@code firstGfn} (2 MiB aligned) as one huge DMA
     * mapping; {@link #NO_MAPPING} when the GPU has no 2 MiB pages or the run is not guest RAM or not
     * contiguous in host memory.
     */
    public long acquireHuge(long firstGfn) {
        return huge.acquire(firstGfn);
    }

    /** Drops one reference taken by {@link #acquireHuge}; the run is unmapped and unpinned at zero. */
    public void releaseHuge(long firstGfn) {
        huge.release(firstGfn);
    }

    /** The pinned 4 KiB view of {@code gfn} while it is cached (referenced or idle), else null. */
    public MemorySegment page(long gfn) {
        int id = index.find(gfn);
        return id == 0 ? null : pageOf[id];
    }

    /** The device address of cached frame {@code gfn}, or {@link #NO_MAPPING}. */
    public long dmaAddress(long gfn) {
        int id = index.find(gfn);
        return id == 0 ? NO_MAPPING : meta[2 * id];
    }

    /** References held on {@code gfn} (0 when idle or not cached). */
    public int refCount(long gfn) {
        int id = index.find(gfn);
        return id == 0 ? 0 : (int) (meta[2 * id + 1] & REFS);
    }

    /** Frames pinned right now (cached 4 KiB frames, referenced or idle, plus 512 per huge run). */
    public int pinnedFrames() {
        return index.size() + huge.size() * HugeRuns.FRAMES_2M;
    }

    /** Cached frames with no reference. */
    public int idleFrames() {
        return idle;
    }

    /** Pins or maps that failed (the frame was then replaced by scratch by the caller). */
    public long pinFailures() {
        return pinFailures + huge.pinFailures();
    }

    /** How many {@link #dmaUnmapped} calls touched at least one pinned frame. */
    public long invalidations() {
        return invalidations;
    }

    /** What {@link #forEachMapping} reports. */
    @FunctionalInterface
    public interface MappingVisitor {
        void mapping(long gfn, long deviceAddress, long bytes);
    }

    /** Visits every live mapping (4 KiB frames and 2 MiB runs). */
    public void forEachMapping(MappingVisitor visitor) {
        for (int id = 1; id < nextId; id++) {
            if (pinOf[id] != null) {
                visitor.mapping(gfnOf[id], meta[2 * id], HostGpu.PAGE_SIZE);
            }
        }
        huge.forEach(visitor);
    }

    /**
     * Guest RAM {@code [iova, iova + length)} is going away: tell the listeners, then unmap and unpin every
     * cached frame or huge run that overlaps it. Before return no {@link PinnedPages} of the range is open.
     * Never throws.
     */
    public void dmaUnmapped(long iova, long length) {
        if (length <= 0 || iova < 0) {
            return;
        }
        long first = iova >>> 12;
        long end = length > Long.MAX_VALUE - iova - 4095 ? Long.MAX_VALUE >>> 12 : (iova + length + 4095) >>> 12;
        boolean touched = false;
        for (int id = 1; id < nextId; id++) {
            touched |= pinOf[id] != null && gfnOf[id] >= first && gfnOf[id] < end;
        }
        touched |= huge.overlaps(first, end);
        for (DmaInvalidationListener listener : listeners) {
            try {
                listener.invalidated(first, end);
            } catch (RuntimeException ex) {
                log.error("DMA invalidation listener failed for gfns [0x{}, 0x{})", Long.toHexString(first),
                        Long.toHexString(end), ex);
            }
        }
        for (int id = 1; id < nextId; id++) {
            if (pinOf[id] == null || gfnOf[id] < first || gfnOf[id] >= end) {
                continue;
            }
            int refs = (int) (meta[2 * id + 1] & REFS);
            if (refs > 0) {
                log.warn("gfn 0x{} still has {} reference(s) at DMA unmap; dropping the pin anyway",
                        Long.toHexString(gfnOf[id]), refs);
            } else {
                idle--;
            }
            drop(id);
        }
        huge.drop(first, end);
        if (touched) {
            invalidations++;
        }
    }

    /** Unmaps and unpins every idle frame. */
    public void releaseIdle() {
        for (int id = 1; id < nextId; id++) {
            if (pinOf[id] != null && (meta[2 * id + 1] & REFS) == 0) {
                idle--;
                drop(id);
            }
        }
        idleQueue.clear();
        for (int id = 1; id < nextId; id++) {
            meta[2 * id + 1] &= ~QUEUED;
        }
    }

    /** Unmaps and unpins everything, referenced or not (detach, destroy). Never throws. */
    public void close() {
        for (int id = 1; id < nextId; id++) {
            if (pinOf[id] != null) {
                drop(id);
            }
        }
        huge.clear();
        idleQueue.clear();
        idle = 0;
    }

    // ---------------------------------------------------------------- ids

    /** Whether queued handle {@code h} still names the frame it was queued for (not dropped or re-used since). */
    private boolean live(long h) {
        return (meta[2 * (int) h + 1] >>> 32) == (h >>> 32);
    }

    private int newId() {
        if (freeCount > 0) {
            return freeIds[--freeCount];
        }
        if (nextId > ID_MASK) {
            return 0;
        }
        if (nextId == gfnOf.length) {
            int n = gfnOf.length * 2;
            meta = Arrays.copyOf(meta, 2 * n);
            for (int id = gfnOf.length; id < n; id++) {
                meta[2 * id + 1] = 1L << 32;
            }
            gfnOf = Arrays.copyOf(gfnOf, n);
            pinOf = Arrays.copyOf(pinOf, n);
            pageOf = Arrays.copyOf(pageOf, n);
        }
        return nextId++;
    }

    private int pinAndMap(long gfn) {
        if (gfn < 0 || gfn >= FrameIndex.MAX_GFN) {
            pinFailures++;
            return 0;
        }
        PinnedPages pin;
        try {
            pin = pages.pin(gfn, 1, GuestPages.Access.READ_WRITE);
        } catch (GvtException ex) {
            pinFailures++;
            return 0;
        }
        MemorySegment page;
        long dma;
        try {
            page = pin.page(0);
            dma = gpu.dmaMap(page);
        } catch (GvtException | IllegalStateException ex) {
            pin.close();
            pinFailures++;
            return 0;
        }
        int id = newId();
        if (id == 0) {
            log.warn("pin cache full ({} frames); gfn 0x{} not mapped", ID_MASK, Long.toHexString(gfn));
            unmapAndUnpin(gfn, dma, pin);
            pinFailures++;
            return 0;
        }
        meta[2 * id] = dma;
        meta[2 * id + 1] &= ~(QUEUED | REFS);
        gfnOf[id] = gfn;
        pinOf[id] = pin;
        pageOf[id] = page;
        index.insert(gfn, id);
        idle++; // the caller takes the first reference, which counts it out of the idle frames again
        return id;
    }

    /** Removes frame {@code id} from the cache, unmaps and unpins it; its handles go stale. */
    private void drop(int id) {
        long gfn = gfnOf[id];
        PinnedPages pin = pinOf[id];
        index.remove(gfn);
        meta[2 * id + 1] = ((meta[2 * id + 1] >>> 32) + 1) << 32;
        pinOf[id] = null;
        pageOf[id] = null;
        if (freeCount == freeIds.length) {
            freeIds = Arrays.copyOf(freeIds, freeCount * 2);
        }
        freeIds[freeCount++] = id;
        unmapAndUnpin(gfn, meta[2 * id], pin);
    }

    private void unmapAndUnpin(long gfn, long dma, PinnedPages pin) {
        unmapAndUnpin(gpu, gfn, dma, pin);
    }

    /** Unmaps {@code dma} and closes {@code pin}; logs, never throws. */
    static void unmapAndUnpin(HostGpu gpu, long gfn, long dma, PinnedPages pin) {
        try {
            gpu.dmaUnmap(dma);
        } catch (RuntimeException ex) {
            log.error("DMA unmap of 0x{} (gfn 0x{}) failed", Long.toHexString(dma), Long.toHexString(gfn), ex);
        }
        try {
            pin.close();
        } catch (RuntimeException ex) {
            log.error("unpin of gfn 0x{} failed", Long.toHexString(gfn), ex);
        }
    }
}
