package dev.jgvt.plugin.kvm.iommu;

import static dev.jgvt.plugin.kvm.iommu.SoftIommu.MAX_BITMAP_PAGES;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PAGE_SHIFT;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PAGE_SIZE;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.spi.ErrorCode;

/** Dirty logging for a {@link SoftIommu} (VFIO_IOMMU_DIRTY_PAGES): a bitmap per mapping while tracking is on. */
final class DirtyLog {
    private final IovaSpace space;
    /** Guarded by the space's lock. */
    private boolean tracking;

    DirtyLog(IovaSpace space) {
        this.space = space;
    }

    /** A new mapping gets a bitmap of its pinned pages (none) while tracking is on. Lock held. */
    void seed(DmaMapping m) {
        if (tracking) {
            m.dirty = m.pinnedBitmap();
        }
    }

    /** VFIO_IOMMU_DIRTY_PAGES START: a bitmap per mapping, seeded with the pinned pages. Idempotent. */
    void startDirtyTracking() {
        space.lock.lock();
        try {
            if (tracking) {
                return;
            }
            for (DmaMapping m : space.map.values()) {
                if (m.pages() > MAX_BITMAP_PAGES) {
                    throw IovaSpace.fail(Errno.EINVAL, ErrorCode.LIMIT_EXCEEDED, "dirty tracking: " + m + " has more than 2^31 pages");
                }
            }
            for (DmaMapping m : space.map.values()) {
                m.dirty = m.pinnedBitmap();
            }
            tracking = true;
        } finally {
            space.lock.unlock();
        }
    }

    /** VFIO_IOMMU_DIRTY_PAGES STOP: drops the bitmaps. Idempotent. */
    void stopDirtyTracking() {
        space.lock.lock();
        try {
            tracking = false;
            for (DmaMapping m : space.map.values()) {
                m.dirty = null;
            }
        } finally {
            space.lock.unlock();
        }
    }

    boolean isDirtyTracking() {
        space.lock.lock();
        try {
            return tracking;
        } finally {
            space.lock.unlock();
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
    long[] dirtyBitmap(long iova, long size, long pgsize) {
        String what = "dirty bitmap iova " + IovaSpace.hex(iova) + " size " + IovaSpace.hex(size);
        if (pgsize != PAGE_SIZE) {
            throw IovaSpace.fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": pgsize " + pgsize + " is not " + PAGE_SIZE);
        }
        if (size == 0 || !IovaSpace.aligned(iova) || !IovaSpace.aligned(size)) {
            throw IovaSpace.fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": size must be non-zero and both 4 KiB aligned");
        }
        long last = iova + size - 1;
        if (Long.compareUnsigned(last, iova) < 0) {
            throw IovaSpace.fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": range wraps past 2^64");
        }
        long pages = size >>> PAGE_SHIFT;
        if (pages > MAX_BITMAP_PAGES) {
            throw IovaSpace.fail(Errno.EINVAL, ErrorCode.LIMIT_EXCEEDED, what + ": more than 2^31 pages");
        }
        space.lock.lock();
        try {
            if (!tracking) {
                throw IovaSpace.fail(Errno.EINVAL, ErrorCode.ILLEGAL_STATE, what + ": dirty tracking is not started");
            }
            DmaMapping head = space.find(iova);
            if (head != null && head.iova != iova) {
                throw IovaSpace.fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": starts inside " + head);
            }
            DmaMapping tail = space.find(last);
            if (tail != null && tail.last() != last) {
                throw IovaSpace.fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": ends inside " + tail);
            }
            long[] out = new long[(int) ((pages + 63) >>> 6)];
            for (DmaMapping m : space.map.subMap(iova, true, last, true).values()) {
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
            space.lock.unlock();
        }
    }
}
