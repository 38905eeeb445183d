package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuGuestMemory;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;

/**
 * The binding's guest memory: regions the client mapped with an fd go through the software IOMMU (direct
 * access to the {@code mmap}ped file, pinnable); regions mapped without an fd are reached by DMA_READ and
 * DMA_WRITE messages to the client and cannot be pinned ({@link ErrorCode#IO_ERROR}). An access that spans
 * both kinds is split at region boundaries; such an access that fails part-way may have written a prefix.
 *
 * <p>Threading: safe from any thread.
 */
final class GuestRam implements GuestMemory, GuestPages {
    private final IommuGuestMemory iommu;
    private final Supplier<Connection> connection;
    private volatile boolean detached;

    GuestRam(IommuGuestMemory iommu, Supplier<Connection> connection) {
        this.iommu = requireNonNull(iommu, "iommu is null");
        this.connection = requireNonNull(connection, "connection is null");
    }

    /** From now on every access fails ILLEGAL_STATE (the binding is closing). */
    void detach() {
        detached = true;
    }

    private void ensureAttached() {
        if (detached) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "guest memory is detached");
        }
    }

    private Connection messageConnection() {
        Connection c = connection.get();
        return c != null && c.hasMessageRegions() ? c : null;
    }

    @Override
    public void read(long gpa, MemorySegment dst) {
        access(gpa, dst, false);
    }

    @Override
    public void write(long gpa, MemorySegment src) {
        access(gpa, src, true);
    }

    private void access(long gpa, MemorySegment buf, boolean write) {
        requireNonNull(buf, "buffer is null");
        ensureAttached();
        Connection c = messageConnection();
        if (c == null) {
            if (write) {
                iommu.write(gpa, buf);
            } else {
                iommu.read(gpa, buf);
            }
            return;
        }
        long length = buf.byteSize();
        if (length > 0 && Long.compareUnsigned(gpa + length - 1, gpa) < 0) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "access of " + length + " bytes at 0x" + Long.toHexString(gpa) + " wraps");
        }
        long done = 0;
        while (done < length) {
            long at = gpa + done;
            Connection.MessageRegion r = c.messageRegionAt(at);
            long n;
            if (r != null) {
                n = Math.min(length - done, r.end() - at);
                int need = write ? DmaMap.FLAG_WRITE : DmaMap.FLAG_READ;
                if ((r.flags() & need) == 0) {
                    throw new GvtException(ErrorCode.PERMISSION_DENIED, "gpa 0x" + Long.toHexString(at) + " is mapped without "
                            + (write ? "WRITE" : "READ"));
                }
                if (write) {
                    c.dmaWrite(at, buf.asSlice(done, n));
                } else {
                    c.dmaRead(at, buf.asSlice(done, n));
                }
            } else {
                long next = c.nextMessageRegion(at);
                n = next == 0 ? length - done : Math.min(length - done, next - at);
                if (write) {
                    iommu.write(at, buf.asSlice(done, n));
                } else {
                    iommu.read(at, buf.asSlice(done, n));
                }
            }
            done += n;
        }
    }

    @Override
    public boolean isBacked(long gfn) {
        if (detached) {
            return false;
        }
        if (iommu.isBacked(gfn)) {
            return true;
        }
        Connection c = messageConnection();
        return c != null && gfn >= 0 && gfn < (1L << 52) && c.messageRegionAt(gfn << 12) != null;
    }

    @Override
    public PinnedPages pin(long gfn, int count, Access access) {
        ensureAttached();
        Connection c = messageConnection();
        if (c != null && gfn >= 0 && count >= 1 && count <= MAX_PAGES_PER_PIN && gfn < (1L << 52) - count) {
            for (int i = 0; i < count; i++) {
                if (c.messageRegionAt((gfn + i) << 12) != null) {
                    throw new GvtException(ErrorCode.IO_ERROR, "pin of gfn 0x" + Long.toHexString(gfn + i)
                            + ": the client mapped it without an fd (DMA by messages), it cannot be pinned");
                }
            }
        }
        return iommu.pin(gfn, count, access);
    }
}
