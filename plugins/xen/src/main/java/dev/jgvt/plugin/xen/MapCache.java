package dev.jgvt.plugin.xen;

import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenForeignMemory;
import dev.jgvt.plugin.xen.lib.XenForeignMemory.ForeignMapping;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest RAM through foreign mappings, cached in 1 MiB buckets (256 frames, QEMU's and XenGT's granularity).
 * A bucket is mapped with a per-page error array: frames that fail (holes: unpopulated, ballooned out,
 * beyond the last gfn) are remembered and never touched. Buckets are evicted least recently used beyond
 * a configured count, and all are dropped on {@code IOREQ_TYPE_INVALIDATE} (the guest's physmap changed)
 * and on detach.
 *
 * <p>Threading: every access holds the cache's monitor, so an eviction or flush never unmaps a bucket
 * while another thread copies through it.
 */
final class MapCache implements GuestMemory {
    static final int BUCKET_SHIFT = 20;
    static final int PAGES_PER_BUCKET = 1 << (BUCKET_SHIFT - 12);
    /** x86-64 guest physical addresses have at most 52 bits: larger frames are never mapped. */
    static final long MAX_GFN = (1L << 40) - 1;

    private static final Logger log = LoggerFactory.getLogger(MapCache.class);

    private final XenForeignMemory foreignMemory;
    private final int domid;
    private final int maxBuckets;
    private final LinkedHashMap<Long, Bucket> buckets = new LinkedHashMap<>(64, 0.75f, true);
    private boolean closed;
    private long bucketMaps;
    private long evictions;
    private long flushes;

    /** One mapped bucket; {@code mapping} is null when the whole map call failed (all holes). */
    private record Bucket(ForeignMapping mapping, long[] holes) {
        boolean backed(int page) {
            return mapping != null && (holes[page >>> 6] & (1L << page)) == 0
                    && (long) (page + 1) * PAGE_SIZE <= mapping.segment().byteSize();
        }
    }

    MapCache(XenForeignMemory foreignMemory, int domid, int maxBuckets) {
        if (maxBuckets < 1) {
            throw new IllegalArgumentException("maxBuckets must be >= 1: " + maxBuckets);
        }
        this.foreignMemory = foreignMemory;
        this.domid = domid;
        this.maxBuckets = maxBuckets;
    }

    private Bucket bucket(long index) {
        Bucket bucket = buckets.get(index);
        if (bucket != null) {
            return bucket;
        }
        if (buckets.size() >= maxBuckets) {
            Iterator<Map.Entry<Long, Bucket>> eldest = buckets.entrySet().iterator();
            unmap(eldest.next().getValue());
            eldest.remove();
            evictions++;
        }
        long[] gfns = new long[PAGES_PER_BUCKET];
        int[] err = new int[PAGES_PER_BUCKET];
        long first = index << (BUCKET_SHIFT - 12);
        for (int i = 0; i < gfns.length; i++) {
            gfns[i] = first + i;
        }
        long[] holes = new long[PAGES_PER_BUCKET / 64];
        ForeignMapping mapping = null;
        try {
            mapping = foreignMemory.map(domid, true, gfns, err);
            for (int i = 0; i < err.length; i++) {
                if (err[i] != 0) {
                    holes[i >>> 6] |= 1L << i;
                }
            }
        } catch (XenCallException e) {
            log.debug("dom{}: bucket {} not mappable: {}", domid, index, e.getMessage());
            java.util.Arrays.fill(holes, -1L);
        }
        bucketMaps++;
        bucket = new Bucket(mapping, holes);
        buckets.put(index, bucket);
        return bucket;
    }

    private static void unmap(Bucket bucket) {
        if (bucket.mapping() != null) {
            bucket.mapping().close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "guest memory of dom" + domid + " is detached");
        }
    }

    /** Addresses are unsigned; a range is OUT_OF_RANGE only when its last byte wraps past 2^64. */
    private static void checkRange(long gpa, long length) {
        if (length > 0 && Long.compareUnsigned(gpa + length - 1, gpa) < 0) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "guest range [0x" + Long.toHexString(gpa) + ", +" + length
                    + ") wraps past 2^64");
        }
    }

    private GvtException notMapped(long gfn) {
        return new GvtException(ErrorCode.NOT_MAPPED, "gfn 0x" + Long.toHexString(gfn) + " of dom" + domid + " is not guest RAM");
    }

    /** The bucket's segment for the page holding {@code gpa}, after checking the page is backed. */
    private MemorySegment page(long gpa) {
        long gfn = gpa >>> 12;
        if (gfn > MAX_GFN) {
            throw notMapped(gfn);
        }
        Bucket bucket = bucket(gpa >>> BUCKET_SHIFT);
        int page = (int) (gfn & (PAGES_PER_BUCKET - 1));
        if (!bucket.backed(page)) {
            throw notMapped(gfn);
        }
        return bucket.mapping().segment();
    }

    @Override
    public synchronized void read(long gpa, MemorySegment dst) {
        checkOpen();
        long length = dst.byteSize();
        checkRange(gpa, length);
        long done = 0;
        while (done < length) {
            long at = gpa + done;
            int chunk = (int) Math.min(length - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
            MemorySegment segment = page(at);
            MemorySegment.copy(segment, at & ((1L << BUCKET_SHIFT) - 1), dst, done, chunk);
            done += chunk;
        }
    }

    @Override
    public synchronized void write(long gpa, MemorySegment src) {
        checkOpen();
        long length = src.byteSize();
        checkRange(gpa, length);
        if (length == 0) {
            return;
        }
        for (long gfn = gpa >>> 12; gfn <= (gpa + length - 1) >>> 12; gfn++) {
            page(gfn << 12); // a failed write writes nothing: check every frame first
        }
        long done = 0;
        while (done < length) {
            long at = gpa + done;
            int chunk = (int) Math.min(length - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
            MemorySegment.copy(src, done, page(at), at & ((1L << BUCKET_SHIFT) - 1), chunk);
            done += chunk;
        }
    }

    @Override
    public synchronized boolean isBacked(long gfn) {
        if (closed || gfn < 0 || gfn > MAX_GFN) {
            return false;
        }
        try {
            return bucket(gfn >>> (BUCKET_SHIFT - 12)).backed((int) (gfn & (PAGES_PER_BUCKET - 1)));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Drops every bucket ({@code IOREQ_TYPE_INVALIDATE}). */
    synchronized void flush() {
        buckets.values().forEach(MapCache::unmap);
        buckets.clear();
        flushes++;
    }

    /** Flushes and refuses further use. Idempotent. */
    synchronized void close() {
        if (!closed) {
            flush();
            closed = true;
        }
    }

    synchronized int mappedBuckets() {
        return buckets.size();
    }

    synchronized long bucketMaps() {
        return bucketMaps;
    }

    synchronized long evictions() {
        return evictions;
    }

    synchronized long flushes() {
        return flushes;
    }
}
