package dev.jgvt.plugin.kvm.iommu;

import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PAGE_SHIFT;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PROT_READ;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PROT_WRITE;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.MemorySegment;

/** {@code dma_rw} for a {@link SoftIommu}: copies across mappings, host-backed ones under the lock, remote ones without it. */
final class DmaCopy {
    private final IovaSpace space;

    DmaCopy(IovaSpace space) {
        this.space = space;
    }

    /**
     * Copies between {@code buf} and the IOVA range {@code [iova, iova + buf.byteSize())}, crossing
     * mapping boundaries. The whole range is checked first, so a failed write writes nothing. Writes mark
     * pages dirty while tracking is on.
     *
     * @throws IommuException EINVAL (a byte not mapped: NOT_MAPPED; the range wraps: OUT_OF_RANGE), EPERM
     *     (write to a mapping without WRITE, any access to one without READ)
     */
    void dmaRw(long iova, MemorySegment buf, boolean write) {
        long len = buf.byteSize();
        if (len == 0) {
            return;
        }
        String what = (write ? "dma write" : "dma read") + " iova " + IovaSpace.hex(iova) + " length " + IovaSpace.hex(len);
        long last = iova + len - 1;
        if (Long.compareUnsigned(last, iova) < 0) {
            throw IovaSpace.fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": range wraps past 2^64");
        }
        boolean remote = false;
        space.lock.lock();
        try {
            long at = iova;
            while (true) {
                DmaMapping m = space.find(at);
                if (m == null) {
                    throw IovaSpace.fail(Errno.EINVAL, ErrorCode.NOT_MAPPED, what + ": iova " + IovaSpace.hex(at) + " is not mapped");
                }
                if ((write && (m.prot & PROT_WRITE) == 0) || (m.prot & PROT_READ) == 0) {
                    throw IovaSpace.fail(Errno.EPERM, ErrorCode.PERMISSION_DENIED, what + ": not allowed by " + m);
                }
                remote |= m.remote != null;
                if (Long.compareUnsigned(m.last(), last) >= 0) {
                    break;
                }
                at = m.last() + 1;
            }
            if (!remote) {
                for (long done = 0; done < len; ) {
                    done += copyChunk(space.find(iova + done), iova + done, buf, done, write);
                }
                return;
            }
        } finally {
            space.lock.unlock();
        }
        // some of the range is reached by messages: those chunks are copied without the lock (they wait for
        // the client), so a failure part-way may leave a prefix written
        for (long done = 0; done < len; ) {
            long at = iova + done;
            DmaMapping m;
            long chunk;
            space.lock.lock();
            try {
                m = space.find(at);
                if (m == null) {
                    throw IovaSpace.fail(Errno.EINVAL, ErrorCode.NOT_MAPPED, what + ": iova " + IovaSpace.hex(at) + " is not mapped");
                }
                chunk = m.remote == null ? copyChunk(m, at, buf, done, write) : Math.min(len - done, m.size - (at - m.iova));
            } finally {
                space.lock.unlock();
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
}
