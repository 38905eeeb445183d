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
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of vfio-user DMA_MAP/DMA_UNMAP over a {@link SoftIommu}, which holds the one record of what
 * is mapped (overlaps, limits, the unmap interlock and its announcements are the IOMMU's): an fd-backed region
 * is checked, {@code mmap}ped ({@code MAP_SHARED}, protections from the READ/WRITE flags) and mapped with the
 * {@code munmap} as its release; a region without an fd is mapped as remote memory reached through DMA_READ
 * and DMA_WRITE messages (when the caller gives a {@link SoftIommu.RemoteDma}). DMA_UNMAP must name a region
 * exactly (else ENOENT) or carry the ALL flag.
 *
 * <p>Size rules (both kinds): non-zero, 4 KiB aligned, below 2^63 and not wrapping past 2^64, checked before
 * anything is mapped ({@link SoftIommu#checkMapRange}), so every unmap length stays a non-negative
 * {@code long}. Not supported: DMA_UNMAP with GET_DIRTY_BITMAP (EINVAL); an identical re-map is EEXIST
 * (libvfio-user treats it as success). A client that shrinks the file after mapping can still make accesses
 * fault (SIGBUS); the size is only checked at map time.
 *
 * <p>Threading: safe from any thread.
 */
public final class DmaRegions implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DmaRegions.class);
    private static final long PAGE = SoftIommu.PAGE_SIZE;

    /** One mapped region. */
    public record Region(long address, long size, int flags) {}

    private final SoftIommu iommu;
    private final AtomicBoolean closed = new AtomicBoolean();

    public DmaRegions(SoftIommu iommu) {
        this.iommu = requireNonNull(iommu, "iommu is null");
    }

    private static IommuException fail(int errno, ErrorCode code, String message) {
        return new IommuException(errno, code, message);
    }

    /** DMA_MAP with an fd, or without one (ENOTSUP: no way to reach such memory). See {@link #map(DmaMap, int, SoftIommu.RemoteDma)}. */
    public void map(DmaMap request, int fd) {
        map(request, fd, null);
    }

    /**
     * DMA_MAP. Takes ownership of {@code fd} ({@code -1} when the message carried none) and closes it in
     * every case (the mapping keeps the memory alive). Without an fd the region is reached through
     * {@code remote}; with none given such a request fails ENOTSUP.
     *
     * @throws IommuException with the errno for the error reply
     */
    public void map(DmaMap request, int fd, SoftIommu.RemoteDma remote) {
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
            SoftIommu.checkMapRange(what, request.address(), request.size());
            int iommuProt = ((flags & DmaMap.FLAG_READ) != 0 ? SoftIommu.PROT_READ : 0)
                    | ((flags & DmaMap.FLAG_WRITE) != 0 ? SoftIommu.PROT_WRITE : 0);
            if (fd < 0) {
                if (remote == null) {
                    throw fail(Errno.ENOTSUP, ErrorCode.UNSUPPORTED, what + ": regions without an fd are not supported here");
                }
                iommu.mapRemote(request.address(), request.size(), iommuProt, remote);
                return;
            }
            mapFd(what, request, fd, iommuProt);
        } finally {
            if (fd >= 0) {
                Libc.rawClose(fd);
            }
        }
    }

    private void mapFd(String what, DmaMap request, int fd, int iommuProt) {
        long offset = request.offset();
        long size = request.size();
        if ((offset & (PAGE - 1)) != 0) {
            throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": offset 0x" + Long.toHexString(offset) + " must be 4 KiB aligned");
        }
        long fileSize = Libc.rawFileSize(fd);
        if (fileSize < 0) {
            throw fail((int) -fileSize, ErrorCode.INVALID_ARGUMENT, what + ": cannot size fd " + fd);
        }
        if (offset < 0 || offset + size < offset || Long.compareUnsigned(offset + size, fileSize) > 0) {
            throw fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": offset 0x" + Long.toHexString(offset)
                    + " + size exceeds the file's 0x" + Long.toHexString(fileSize) + " bytes");
        }
        int prot = ((iommuProt & SoftIommu.PROT_READ) != 0 ? Libc.PROT_READ : 0)
                | ((iommuProt & SoftIommu.PROT_WRITE) != 0 ? Libc.PROT_WRITE : 0);
        long address = Libc.rawMmap(size, prot, Libc.MAP_SHARED, fd, offset);
        if (address < 0) {
            throw fail((int) -address, ErrorCode.IO_ERROR, what + ": mmap of fd " + fd + " failed");
        }
        Arena arena = Arena.ofShared();
        MemorySegment backing = MemorySegment.ofAddress(address).reinterpret(size, arena, s -> Libc.rawMunmap(address, size));
        try {
            iommu.map(request.address(), size, iommuProt, backing, arena::close);
        } catch (IommuException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * DMA_UNMAP: the exact region, or everything with the ALL flag (address and size 0). Returns the bytes
     * unmapped (unsigned).
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
            return iommu.unmapAll();
        }
        boolean exact = iommu.mappingAt(request.address()).map(m -> m.size() == request.size()).orElse(false);
        if (!exact) {
            throw fail(Errno.ENOENT, ErrorCode.NOT_FOUND, what + ": no region with exactly that address and size");
        }
        return iommu.unmap(request.address(), request.size(), 0);
    }

    /** The regions in address order. */
    public List<Region> regions() {
        List<Region> out = new ArrayList<>();
        for (SoftIommu.MappingInfo m : iommu.mappings()) {
            int flags = ((m.prot() & SoftIommu.PROT_READ) != 0 ? DmaMap.FLAG_READ : 0)
                    | ((m.prot() & SoftIommu.PROT_WRITE) != 0 ? DmaMap.FLAG_WRITE : 0);
            out.add(new Region(m.iova(), m.size(), flags));
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
                    iommu.unmap(r.address(), r.size(), 0);
                } catch (IommuException e) {
                    log.error("disconnect: region {} stays mapped: {}", r, e.getMessage());
                }
            }
        }
    }
}
