package dev.jgvt.plugin.kvm.iommu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The SPI's {@link GuestMemory} and {@link GuestPages} for one device over a {@link SoftIommu}
 * (guest physical address = IOVA). Registers the device's {@link DeviceModel#dmaUnmapped} as the
 * unmap callback; failures become {@link GvtException}s whose cause is the {@link IommuException}
 * with the errno. {@link #close()} releases every pin still held and unregisters the device.
 *
 * <p>Threading: safe from any thread.
 */
public final class IommuGuestMemory implements GuestMemory, GuestPages, AutoCloseable {
    private static final long MAX_GFN = (1L << (64 - SoftIommu.PAGE_SHIFT)) - 1;

    private final SoftIommu iommu;
    private final SoftIommu.Registration registration;
    private final Set<Pin> pins = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    public IommuGuestMemory(SoftIommu iommu, DeviceModel device) {
        this.iommu = requireNonNull(iommu, "iommu is null");
        requireNonNull(device, "device is null");
        this.registration = iommu.register(device::dmaUnmapped);
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "guest memory is detached");
        }
    }

    @Override
    public void read(long gpa, MemorySegment dst) {
        requireNonNull(dst, "dst is null");
        ensureOpen();
        try {
            iommu.dmaRw(gpa, dst, false);
        } catch (IommuException e) {
            throw e.toGvt();
        }
    }

    @Override
    public void write(long gpa, MemorySegment src) {
        requireNonNull(src, "src is null");
        ensureOpen();
        try {
            iommu.dmaRw(gpa, src, true);
        } catch (IommuException e) {
            throw e.toGvt();
        }
    }

    @Override
    public boolean isBacked(long gfn) {
        if (closed.get() || gfn < 0 || gfn > MAX_GFN) {
            return false;
        }
        return iommu.isMapped(gfn << SoftIommu.PAGE_SHIFT);
    }

    @Override
    public PinnedPages pin(long gfn, int count, Access access) {
        requireNonNull(access, "access is null");
        if (count < 1 || gfn < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "pin gfn " + gfn + " count " + count
                    + ": count must be at least 1 and gfn non-negative");
        }
        if (count > MAX_PAGES_PER_PIN) {
            throw new GvtException(ErrorCode.LIMIT_EXCEEDED,
                    "pin gfn " + gfn + " count " + count + ": at most " + MAX_PAGES_PER_PIN + " pages per pin");
        }
        if (gfn > MAX_GFN - (count - 1)) {
            throw new GvtException(ErrorCode.NOT_MAPPED, "pin gfn 0x" + Long.toHexString(gfn) + " count " + count
                    + ": beyond the 64-bit guest physical space");
        }
        ensureOpen();
        int prot = switch (access) {
            case READ -> SoftIommu.PROT_READ;
            case WRITE -> SoftIommu.PROT_WRITE;
            case READ_WRITE -> SoftIommu.PROT_READ | SoftIommu.PROT_WRITE;
        };
        Pin pin;
        try {
            pin = iommu.pin(gfn << SoftIommu.PAGE_SHIFT, count, prot);
        } catch (IommuException e) {
            throw e.toGvt();
        }
        pins.add(pin);
        pin.onClose(() -> pins.remove(pin));
        if (closed.get()) {
            pin.close();
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "guest memory was detached during the pin");
        }
        return pin;
    }

    /** Pins currently held through this object. */
    public int openPins() {
        return pins.size();
    }

    /** Detaches: closes every pin still held, unregisters the device; idempotent, never throws. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            List<Pin> held = new ArrayList<>(pins);
            for (Pin p : held) {
                p.close();
            }
            registration.close();
        }
    }
}
