package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.track.GfnMap;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
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
 * <p>Used under the vGPU's lock; not thread-safe. Never throws for a guest's doing: a frame that cannot be
 * pinned or mapped yields {@link #NO_MAPPING} and is counted.
 */
public final class PinCache {
    /** Returned by {@link #acquire} when the frame cannot be used (not guest RAM, unmapped, no DMA space). */
    public static final long NO_MAPPING = -1;

    private static final Logger log = LoggerFactory.getLogger(PinCache.class);
    private static final int FRAMES_2M = HostGpu.HUGE_PAGE_SIZE / HostGpu.PAGE_SIZE;

    private final GuestPages pages;
    private final HostGpu gpu;
    private final int idleLimit;
    private final GfnMap<Entry> entries = new GfnMap<>(1024);
    private final GfnMap<Entry> huge = new GfnMap<>(16);
    private final ArrayDeque<Entry> idleQueue = new ArrayDeque<>();
    private final List<DmaInvalidationListener> listeners = new CopyOnWriteArrayList<>();
    private int idle;
    private long pinFailures;
    private long invalidations;

    /** A reference-holder's handle on one cached frame (see {@link #pin}); lets the holder release without a lookup. */
    public static final class Entry {
        final long gfn;
        final PinnedPages pin;
        final MemorySegment segment;
        final long dma;
        int refs;
        boolean queued;
        boolean alive = true;

        Entry(long gfn, PinnedPages pin, MemorySegment segment, long dma) {
            this.gfn = gfn;
            this.pin = pin;
            this.segment = segment;
            this.dma = dma;
        }

        /** The frame. */
        public long gfn() {
            return gfn;
        }

        /** Its device address. */
        public long dmaAddress() {
            return dma;
        }
    }

    public PinCache(GuestPages pages, HostGpu gpu, int idleLimit) {
        this.pages = requireNonNull(pages, "pages is null");
        this.gpu = requireNonNull(gpu, "gpu is null");
        if (idleLimit < 0) {
            throw new IllegalArgumentException("idle limit must be >= 0: " + idleLimit);
        }
        this.idleLimit = idleLimit;
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
        Entry e = entries.get(gfn);
        if (e == null) {
            e = pinAndMap(gfn);
            if (e == null) {
                return NO_MAPPING;
            }
            entries.put(gfn, e);
        } else if (e.refs == 0) {
            idle--;
        }
        e.refs++;
        return e.dma;
    }

    /**
     * As {@link #acquire} but returns the cache entry (null when the frame cannot be used), so the holder can
     * {@link #unpin} it without a lookup. The shadow PPGTT's hot path uses this.
     */
    public Entry pin(long gfn) {
        Entry e = entries.get(gfn);
        if (e == null) {
            e = pinAndMap(gfn);
            if (e == null) {
                return null;
            }
            entries.put(gfn, e);
        } else if (e.refs == 0) {
            idle--;
        }
        e.refs++;
        return e;
    }

    /** Drops one reference taken by {@link #pin}; ignored when the entry was dropped by a DMA unmap. */
    public void unpin(Entry e) {
        if (!e.alive || e.refs == 0) {
            return;
        }
        drop1(e);
    }

    /** Drops one reference taken by {@link #acquire}; a frame with none left becomes idle. */
    public void release(long gfn) {
        Entry e = entries.get(gfn);
        if (e == null || e.refs == 0) {
            log.debug("release of gfn 0x{} that holds no reference", Long.toHexString(gfn));
            return;
        }
        drop1(e);
    }

    private void drop1(Entry e) {
        if (--e.refs == 0) {
            idle++;
            if (!e.queued) {
                e.queued = true;
                idleQueue.addLast(e);
            }
            while (idle > idleLimit) {
                Entry victim = idleQueue.pollFirst();
                if (victim == null) {
                    break;
                }
                victim.queued = false;
                if (victim.alive && victim.refs == 0) {
                    idle--;
                    drop(victim);
                }
            }
        }
    }

    /**
     * Takes a reference on the 2 MiB run of 512 frames from {@code firstGfn} (2 MiB aligned) as one huge DMA
     * mapping; {@link #NO_MAPPING} when the GPU has no 2 MiB pages or the run is not guest RAM or not
     * contiguous in host memory.
     */
    public long acquireHuge(long firstGfn) {
        if (!gpu.supportsHugePages() || (firstGfn & (FRAMES_2M - 1)) != 0) {
            return NO_MAPPING;
        }
        Entry e = huge.get(firstGfn);
        if (e == null) {
            PinnedPages pin;
            try {
                pin = pages.pin(firstGfn, FRAMES_2M, GuestPages.Access.READ_WRITE);
            } catch (GvtException ex) {
                pinFailures++;
                return NO_MAPPING;
            }
            MemorySegment run = pin.contiguous().orElse(null);
            if (run == null || run.byteSize() != HostGpu.HUGE_PAGE_SIZE) {
                pin.close();
                return NO_MAPPING;
            }
            long dma;
            try {
                dma = gpu.dmaMap(run);
            } catch (GvtException ex) {
                pin.close();
                pinFailures++;
                return NO_MAPPING;
            }
            e = new Entry(firstGfn, pin, run, dma);
            huge.put(firstGfn, e);
        }
        e.refs++;
        return e.dma;
    }

    /** Drops one reference taken by {@link #acquireHuge}; the run is unmapped and unpinned at zero. */
    public void releaseHuge(long firstGfn) {
        Entry e = huge.get(firstGfn);
        if (e == null || e.refs == 0) {
            return;
        }
        if (--e.refs == 0) {
            huge.remove(firstGfn);
            unmapAndUnpin(e);
        }
    }

    /** The pinned 4 KiB view of {@code gfn} while it is cached (referenced or idle), else null. */
    public MemorySegment page(long gfn) {
        Entry e = entries.get(gfn);
        return e == null ? null : e.segment;
    }

    /** The device address of cached frame {@code gfn}, or {@link #NO_MAPPING}. */
    public long dmaAddress(long gfn) {
        Entry e = entries.get(gfn);
        return e == null ? NO_MAPPING : e.dma;
    }

    /** References held on {@code gfn} (0 when idle or not cached). */
    public int refCount(long gfn) {
        Entry e = entries.get(gfn);
        return e == null ? 0 : e.refs;
    }

    /** Frames pinned right now (cached 4 KiB frames, referenced or idle, plus 512 per huge run). */
    public int pinnedFrames() {
        return entries.size() + huge.size() * FRAMES_2M;
    }

    /** Cached frames with no reference. */
    public int idleFrames() {
        return idle;
    }

    /** Pins or maps that failed (the frame was then replaced by scratch by the caller). */
    public long pinFailures() {
        return pinFailures;
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
        for (Entry e : entries.values()) {
            visitor.mapping(e.gfn, e.dma, HostGpu.PAGE_SIZE);
        }
        for (Entry e : huge.values()) {
            visitor.mapping(e.gfn, e.dma, HostGpu.HUGE_PAGE_SIZE);
        }
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
        for (Entry e : entries.values()) {
            touched |= e.gfn >= first && e.gfn < end;
        }
        for (Entry e : huge.values()) {
            touched |= e.gfn < end && e.gfn + FRAMES_2M > first;
        }
        for (DmaInvalidationListener listener : listeners) {
            try {
                listener.invalidated(first, end);
            } catch (RuntimeException ex) {
                log.error("DMA invalidation listener failed for gfns [0x{}, 0x{})", Long.toHexString(first),
                        Long.toHexString(end), ex);
            }
        }
        List<Entry> doomed = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (e.gfn >= first && e.gfn < end) {
                doomed.add(e);
            }
        }
        for (Entry e : doomed) {
            if (e.refs > 0) {
                log.warn("gfn 0x{} still has {} reference(s) at DMA unmap; dropping the pin anyway",
                        Long.toHexString(e.gfn), e.refs);
            } else {
                idle--;
            }
            entries.remove(e.gfn);
            drop(e);
        }
        for (Entry e : huge.values()) {
            if (e.gfn < end && e.gfn + FRAMES_2M > first) {
                huge.remove(e.gfn);
                unmapAndUnpin(e);
            }
        }
        if (touched) {
            invalidations++;
        }
    }

    /** Unmaps and unpins every idle frame. */
    public void releaseIdle() {
        for (Entry e : entries.values()) {
            if (e.refs == 0) {
                entries.remove(e.gfn);
                idle--;
                drop(e);
            }
        }
        idleQueue.clear();
        for (Entry e : entries.values()) {
            e.queued = false;
        }
    }

    /** Unmaps and unpins everything, referenced or not (detach, destroy). Never throws. */
    public void close() {
        for (Entry e : entries.values()) {
            drop(e);
        }
        for (Entry e : huge.values()) {
            unmapAndUnpin(e);
        }
        entries.clear();
        huge.clear();
        idleQueue.clear();
        idle = 0;
    }

    private Entry pinAndMap(long gfn) {
        if (gfn < 0) {
            pinFailures++;
            return null;
        }
        PinnedPages pin;
        try {
            pin = pages.pin(gfn, 1, GuestPages.Access.READ_WRITE);
        } catch (GvtException ex) {
            pinFailures++;
            return null;
        }
        try {
            MemorySegment page = pin.page(0);
            return new Entry(gfn, pin, page, gpu.dmaMap(page));
        } catch (GvtException | IllegalStateException ex) {
            pin.close();
            pinFailures++;
            return null;
        }
    }

    private void drop(Entry e) {
        entries.remove(e.gfn);
        unmapAndUnpin(e);
    }

    private void unmapAndUnpin(Entry e) {
        if (!e.alive) {
            return;
        }
        e.alive = false;
        try {
            gpu.dmaUnmap(e.dma);
        } catch (RuntimeException ex) {
            log.error("DMA unmap of 0x{} (gfn 0x{}) failed", Long.toHexString(e.dma), Long.toHexString(e.gfn), ex);
        }
        try {
            e.pin.close();
        } catch (RuntimeException ex) {
            log.error("unpin of gfn 0x{} failed", Long.toHexString(e.gfn), ex);
        }
    }
}
