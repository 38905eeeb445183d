package dev.jgvt.plugin.kvm.iommu;

import static dev.jgvt.plugin.kvm.iommu.SoftIommu.MAX_PIN_PAGES;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PAGE_SHIFT;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PAGE_SIZE;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PROT_READ;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PROT_WRITE;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Pinning for a {@link SoftIommu}: per-page reference counts in the mappings, under the space's lock. */
final class Pinning {
    private static final Logger log = LoggerFactory.getLogger(Pinning.class);
    private final IovaSpace space;

    Pinning(IovaSpace space) {
        this.space = space;
    }

    /**
     * Pins {@code npage} consecutive pages from {@code iova} (the sub-page offset is ignored) for
     * {@code prot}; already pinned pages gain a reference. Every page may lie in a different mapping.
     * While dirty tracking is on, every pinned page is marked dirty (a pinned page may be written at any time).
     *
     * @throws IommuException EINVAL (npage &lt; 1, bad prot, no device registered, a page not mapped —
     *     nothing stays pinned then), E2BIG (npage &gt; 512), EPERM (prot not allowed by a mapping)
     */
    Pin pin(SoftIommu iommu, boolean devicesRegistered, long iova, int npage, int prot) {
        long base = iova & ~(PAGE_SIZE - 1);
        String what = "pin iova " + IovaSpace.hex(base) + " npage " + npage;
        if (npage < 1) {
            throw IovaSpace.fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": npage must be at least 1");
        }
        if (npage > MAX_PIN_PAGES) {
            throw IovaSpace.fail(Errno.E2BIG, ErrorCode.LIMIT_EXCEEDED, what + ": at most " + MAX_PIN_PAGES + " pages per pin");
        }
        if ((prot & ~(PROT_READ | PROT_WRITE)) != 0 || prot == 0) {
            throw IovaSpace.fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": prot " + prot + " must be READ and/or WRITE only");
        }
        if (!devicesRegistered) {
            throw IovaSpace.fail(Errno.EINVAL, ErrorCode.ILLEGAL_STATE, what + ": no device registered to receive dma_unmap");
        }
        long[] addresses = new long[npage];
        MemorySegment[] hostPages = new MemorySegment[npage];
        space.lock.lock();
        try {
            int done = 0;
            try {
                for (; done < npage; done++) {
                    long page = base + ((long) done << PAGE_SHIFT);
                    if (done > 0 && page == 0) {
                        throw IovaSpace.fail(Errno.EINVAL, ErrorCode.NOT_MAPPED, what + ": range wraps past 2^64");
                    }
                    DmaMapping m = space.find(page);
                    if (m == null) {
                        throw IovaSpace.fail(Errno.EINVAL, ErrorCode.NOT_MAPPED, what + ": iova " + IovaSpace.hex(page) + " is not mapped");
                    }
                    if ((m.prot & prot) != prot) {
                        throw IovaSpace.fail(Errno.EPERM, ErrorCode.PERMISSION_DENIED,
                                what + ": prot " + prot + " not allowed by " + m);
                    }
                    if (m.remote != null) {
                        throw IovaSpace.fail(Errno.EFAULT, ErrorCode.IO_ERROR, what + ": iova " + IovaSpace.hex(page)
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
            space.lock.unlock();
        }
        return new Pin(iommu, base, npage, hostPages);
    }

    /** Drops one reference on each of {@code npage} pages from {@code iova}. Unpinning a page not pinned is logged. */
    void unpin(long iova, int npage) {
        long base = iova & ~(PAGE_SIZE - 1);
        space.lock.lock();
        try {
            for (int i = 0; i < npage; i++) {
                unpinPage(base + ((long) i << PAGE_SHIFT));
            }
        } finally {
            space.lock.unlock();
        }
    }

    private void unpinPage(long page) {
        DmaMapping m = space.find(page);
        if (m == null) {
            log.warn("unpin of iova {} which is not mapped", IovaSpace.hex(page));
            return;
        }
        long index = (page - m.iova) >>> PAGE_SHIFT;
        Integer count = m.pins.get(index);
        if (count == null) {
            log.warn("unpin of iova {} which is not pinned", IovaSpace.hex(page));
        } else if (count == 1) {
            m.pins.remove(index);
        } else {
            m.pins.put(index, count - 1);
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
