package dev.jgvt.plugin.kvm.vfiouser;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.iommu.SoftIommu;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of vfio-user DMA_MAP/DMA_UNMAP over a {@link SoftIommu}: an fd-backed region is
 * {@code mmap}ped ({@code MAP_SHARED}, protections from the READ/WRITE flags) and mapped into the IOMMU at
 * its address; DMA_UNMAP must name a region exactly (else ENOENT) or carry the ALL flag; the unmap goes
 * through the IOMMU's interlock (devices let go of pins first) before the memory is unmapped.
 *
 * <p>Not supported yet: regions without an fd (served by DMA_READ/WRITE messages) fail with ENOTSUP;
 * DMA_UNMAP with GET_DIRTY_BITMAP fails with EINVAL; an identical re-map is EEXIST (libvfio-user treats it
 * as success). A client that shrinks the file after mapping can still make accesses fault (SIGBUS); the
 * size is only checked at map time.
 *
 * <p>Threading: safe from any thread (one lock; IOMMU callbacks run outside it).
 */
public final class DmaRegions implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DmaRegions.class);
    private static final long PAGE = SoftIommu.PAGE_SIZE;

    /** One mapped region. */
    public record Region(long address, long size, int flags, long fileOffset) {}

    private record Mapped(Region region, Arena arena) {}

    private final SoftIommu iommu;
    private final TreeMap<Long, Mapped> regions = new TreeMap<>(Comparator.comparing(Long::longValue, Long::compareUnsigned));
    private final AtomicBoolean closed = new AtomicBoolean();

    public DmaRegions(SoftIommu iommu) {
        this.iommu = requireNonNull(iommu, "iommu is null");
    }

    private static IommuException fail(int errno, ErrorCode code, String message) {
        return new IommuException(errno, code, message);
    }

    /**
     * DMA_MAP. Takes ownership of {@code fd} ({@code -1} when the message carried none) and closes it in
     * every case (the mapping keeps the memory alive).
     *
     * @throws IommuException with the errno for the error reply
     */
    public synchronized void map(DmaMap request, int fd) {
        requireNonNull(request, "request is null");
        try {
            String what = "DMA_MAP address 0x" + Long.toHexString(request.address()) + " size 0x"
                    + Long.toHexString(request.size());
            if (closed.get()) {
                throw fail(Errno.EINVAL, ErrorCode.ILLEGAL_STATE, what + ": the connection is closed");
            }
            int flags = request.flags();
            if ((flags & ~(DmaMap.FLAG_READ | DmaMap.FLAG_WRITE)) != 0 || flags == 0) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT,
                        what + ": flags 0x" + Integer.toHexString(flags) + " must be READ and/or WRITE only");
            }
            if (fd < 0) {
                throw fail(Errno.ENOTSUP, ErrorCode.UNSUPPORTED,
                        what + ": regions without an fd (DMA by messages) are not supported yet");
            }
            long offset = request.offset();
            long size = request.size();
            if (size == 0 || (size & (PAGE - 1)) != 0 || (offset & (PAGE - 1)) != 0 || (request.address() & (PAGE - 1)) != 0) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT,
                        what + ": address, size and offset 0x" + Long.toHexString(offset) + " must be 4 KiB aligned, size non-zero");
            }
            long fileSize = Libc.rawFileSize(fd);
            if (fileSize < 0) {
                throw fail((int) -fileSize, ErrorCode.INVALID_ARGUMENT, what + ": cannot size fd " + fd);
            }
            if (offset < 0 || Long.compareUnsigned(offset + size, fileSize) > 0 || offset + size < offset) {
                throw fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": offset 0x" + Long.toHexString(offset)
                        + " + size exceeds the file's 0x" + Long.toHexString(fileSize) + " bytes");
            }
            int prot = ((flags & DmaMap.FLAG_READ) != 0 ? Libc.PROT_READ : 0) | ((flags & DmaMap.FLAG_WRITE) != 0 ? Libc.PROT_WRITE : 0);
            long address = Libc.rawMmap(size, prot, Libc.MAP_SHARED, fd, offset);
            if (address < 0) {
                throw fail((int) -address, ErrorCode.IO_ERROR, what + ": mmap of fd " + fd + " failed");
            }
            Arena arena = Arena.ofShared();
            MemorySegment backing = MemorySegment.ofAddress(address).reinterpret(size, arena, s -> Libc.rawMunmap(address, size));
            int iommuProt = ((flags & DmaMap.FLAG_READ) != 0 ? SoftIommu.PROT_READ : 0)
                    | ((flags & DmaMap.FLAG_WRITE) != 0 ? SoftIommu.PROT_WRITE : 0);
            try {
                iommu.map(request.address(), size, iommuProt, backing);
            } catch (IommuException e) {
                arena.close();
                throw e;
            }
            regions.put(request.address(), new Mapped(new Region(request.address(), size, flags, offset), arena));
        } finally {
            if (fd >= 0) {
                Libc.rawClose(fd);
            }
        }
    }

    /**
     * DMA_UNMAP: the exact region, or everything with the ALL flag (address and size 0). Returns the bytes
     * unmapped.
     *
     * @throws IommuException ENOENT (no region matches exactly), EINVAL (flags), EBUSY (pins held after the interlock)
     */
    public long unmap(DmaUnmap request) {
        requireNonNull(request, "request is null");
        String what = "DMA_UNMAP address 0x" + Long.toHexString(request.address()) + " size 0x"
                + Long.toHexString(request.size());
        int flags = request.flags();
        if ((flags & ~(DmaUnmap.FLAG_ALL | DmaUnmap.FLAG_GET_DIRTY_BITMAP)) != 0) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": unknown flags 0x" + Integer.toHexString(flags));
        }
        if ((flags & DmaUnmap.FLAG_GET_DIRTY_BITMAP) != 0) {
            throw fail(Errno.EINVAL, ErrorCode.UNSUPPORTED, what + ": GET_DIRTY_BITMAP is not supported");
        }
        if ((flags & DmaUnmap.FLAG_ALL) != 0) {
            if (request.address() != 0 || request.size() != 0) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": ALL needs address 0 and size 0");
            }
            return unmapAll();
        }
        Region region;
        synchronized (this) {
            Mapped m = regions.get(request.address());
            if (m == null || m.region().size() != request.size()) {
                throw fail(Errno.ENOENT, ErrorCode.NOT_FOUND, what + ": no region with exactly that address and size");
            }
            region = m.region();
        }
        return unmapRegion(region);
    }

    private long unmapRegion(Region region) {
        long bytes = iommu.unmap(region.address(), region.size(), 0);
        synchronized (this) {
            Mapped m = regions.remove(region.address());
            if (m != null) {
                m.arena().close();
            }
        }
        return bytes;
    }

    /** Unmaps every region (DMA_UNMAP ALL, or a disconnect); stops at the first EBUSY. */
    public long unmapAll() {
        List<Region> all;
        synchronized (this) {
            all = new ArrayList<>();
            for (Mapped m : regions.values()) {
                all.add(m.region());
            }
        }
        long bytes = 0;
        for (Region r : all) {
            bytes += unmapRegion(r);
        }
        return bytes;
    }

    /** The regions in address order. */
    public synchronized List<Region> regions() {
        List<Region> out = new ArrayList<>(regions.size());
        for (Mapped m : regions.values()) {
            out.add(m.region());
        }
        return out;
    }

    /**
     * Drops every region (as on disconnect); further maps fail. Never throws: a region whose pins are not
     * released (EBUSY) is logged and stays mapped.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            for (Region r : regions()) {
                try {
                    unmapRegion(r);
                } catch (IommuException e) {
                    log.error("disconnect: region {} stays mapped: {}", r, e.getMessage());
                }
            }
        }
    }
}
