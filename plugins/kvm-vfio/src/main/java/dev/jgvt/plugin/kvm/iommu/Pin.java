package dev.jgvt.plugin.kvm.iommu;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Pages pinned by {@link SoftIommu#pin}. The page views of native backing memory belong to an arena
 * closed by {@link #close()}, so a view used after unpinning throws {@link IllegalStateException}
 * instead of touching memory that may have been unmapped; views of heap backing cannot be revoked.
 */
public final class Pin implements PinnedPages {
    private final SoftIommu iommu;
    private final long iova;
    private final int count;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] pages;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Runnable onClose = () -> {};

    Pin(SoftIommu iommu, long iova, int count, MemorySegment[] hostPages) {
        this.iommu = Objects.requireNonNull(iommu, "iommu is null");
        this.iova = iova;
        this.count = count;
        this.pages = Pinning.views(arena, hostPages);
    }

    /** The first pinned IOVA (page aligned). */
    public long iova() {
        return iova;
    }

    @Override
    public long gfn() {
        return iova >>> SoftIommu.PAGE_SHIFT;
    }

    @Override
    public int count() {
        return count;
    }

    @Override
    public MemorySegment page(int index) {
        Objects.checkIndex(index, count);
        if (closed.get()) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "pin of iova 0x" + Long.toHexString(iova) + " is closed");
        }
        return pages[index];
    }

    @Override
    public Optional<MemorySegment> contiguous() {
        if (closed.get()) {
            return Optional.empty();
        }
        MemorySegment first = pages[0];
        if (!first.isNative()) {
            return count == 1 ? Optional.of(first) : Optional.empty();
        }
        for (int i = 1; i < count; i++) {
            if (!pages[i].isNative() || pages[i].address() != first.address() + (long) i * SoftIommu.PAGE_SIZE) {
                return Optional.empty();
            }
        }
        return Optional.of(MemorySegment.ofAddress(first.address())
                .reinterpret((long) count * SoftIommu.PAGE_SIZE, arena, null));
    }

    /** Runs {@code action} once this pin is closed (set by the owner right after pinning). */
    void onClose(Runnable action) {
        this.onClose = Objects.requireNonNull(action, "action is null");
    }

    @Override
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
            iommu.unpin(iova, count);
            onClose.run();
        }
    }

    @Override
    public String toString() {
        return "Pin[iova=0x" + Long.toHexString(iova) + ", count=" + count + (closed.get() ? ", closed" : "") + "]";
    }
}
