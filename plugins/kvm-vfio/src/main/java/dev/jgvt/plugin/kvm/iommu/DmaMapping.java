package dev.jgvt.plugin.kvm.iommu;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/** One MAP_DMA range; mutable state is guarded by the owning {@link SoftIommu}'s lock. */
final class DmaMapping {
    final long iova;
    final long size;
    final int prot;
    /** The host memory, or null for a mapping reached through {@link #remote}. */
    final MemorySegment backing;
    final SoftIommu.RemoteDma remote;
    /** Run once the mapping is removed, or null. */
    final Runnable release;
    /** Announced to the devices by the unmap in progress (announce-every-unmap mode). */
    boolean announced;
    /** Pinned page index (relative to {@link #iova}) → reference count. */
    final Map<Long, Integer> pins = new HashMap<>();
    /** One bit per page while dirty tracking is on, else null. */
    long[] dirty;
    int unmapTries;

    DmaMapping(long iova, long size, int prot, MemorySegment backing, SoftIommu.RemoteDma remote, Runnable release) {
        this.iova = iova;
        this.size = size;
        this.prot = prot;
        this.backing = backing;
        this.remote = remote;
        this.release = release;
    }

    long last() {
        return iova + size - 1;
    }

    long pages() {
        return size >>> SoftIommu.PAGE_SHIFT;
    }

    boolean contains(long address) {
        return Long.compareUnsigned(address, iova) >= 0 && Long.compareUnsigned(address, last()) <= 0;
    }

    void markDirty(long pageIndex) {
        if (dirty != null) {
            dirty[(int) (pageIndex >>> 6)] |= 1L << (pageIndex & 63);
        }
    }

    boolean isDirty(long pageIndex) {
        return dirty != null && (dirty[(int) (pageIndex >>> 6)] & (1L << (pageIndex & 63))) != 0;
    }

    /** A fresh bitmap holding exactly the currently pinned pages (type1's state after START or GET_BITMAP). */
    long[] pinnedBitmap() {
        long[] bits = new long[(int) ((pages() + 63) >>> 6)];
        for (long page : pins.keySet()) {
            bits[(int) (page >>> 6)] |= 1L << (page & 63);
        }
        return bits;
    }

    @Override
    public String toString() {
        return "DmaMapping[iova=0x" + Long.toHexString(iova) + ", size=0x" + Long.toHexString(size) + ", prot=" + prot + "]";
    }
}
