package dev.jgvt.sim;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.sim.engine.SimEngines;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A software GPU's memory side: a host GGTT of the configured size, a device address space (the DMA map
 * table: device address → backing segment), host-owned memory, and the {@link GpuAddressWalker} through
 * which every simulated GPU memory access goes; and its command streamers ({@link #engines()}), which execute
 * {@link #execute host submissions}.
 */
public final class SimGpu implements HostGpu, AutoCloseable {
    private static final ValueLayout.OfLong ENTRY = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int SLAB = 2 * 1024 * 1024;

    private final SimGpuConfig config;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ggtt;
    private final DeviceAddressSpace devices;
    private final GpuAddressWalker walker;
    private final List<MemorySegment> freePages = new ArrayList<>();
    private long hostBytesInUse;
    private boolean closed;
    private volatile SimEngines engines;
    /** Changes of what a translation leads to: GGTT writes, DMA unmaps, host memory freed (translation caches). */
    private final AtomicLong mappingChanges = new AtomicLong();

    public SimGpu(SimGpuConfig config) {
        this.config = requireNonNull(config, "config is null");
        this.ggtt = arena.allocate((long) config.ggttEntries() * 8, 4096);
        this.devices = new DeviceAddressSpace(config.deviceFrames());
        this.walker = new GpuAddressWalker(this);
    }

    /** The walker engines use for every memory access. */
    public GpuAddressWalker walker() {
        return walker;
    }

    /** The command streamers (created on first use). */
    public SimEngines engines() {
        SimEngines e = engines;
        if (e == null) {
            synchronized (this) {
                if (engines == null) {
                    engines = new SimEngines(this);
                }
                e = engines;
            }
        }
        return e;
    }

    @Override
    public HostCompletion execute(HostSubmission submission) {
        return engines().execute(submission);
    }

    public SimGpuConfig config() {
        return config;
    }

    @Override
    public int ggttEntries() {
        return config.ggttEntries();
    }

    @Override
    public void ggttWrite(int index, long entry) {
        checkIndex(index);
        ggtt.setAtIndex(ENTRY, index, entry);
        mappingChanges.incrementAndGet();
    }

    @Override
    public long ggttRead(int index) {
        checkIndex(index);
        return ggtt.getAtIndex(ENTRY, index);
    }

    @Override
    public synchronized long dmaMap(MemorySegment pages) {
        requireNonNull(pages, "pages is null");
        long size = pages.byteSize();
        if (size != PAGE_SIZE && !(size == HUGE_PAGE_SIZE && config.hugePages())) {
            throw new IllegalArgumentException("a DMA mapping is 4096 bytes" + (config.hugePages() ? " or 2 MiB" : "")
                    + ", got " + size);
        }
        return devices.map(pages, DeviceAddressSpace.Owner.DMA);
    }

    @Override
    public synchronized void dmaUnmap(long deviceAddress) {
        devices.unmap(deviceAddress, DeviceAddressSpace.Owner.DMA);
        mappingChanges.incrementAndGet();
    }

    /**
     * How many times a translation may have changed its result other than through page-table memory: GGTT writes,
     * DMA unmaps and frees of host memory. A {@link TranslationCache} that sees the count move forgets everything.
     */
    long mappingChanges() {
        return mappingChanges.get();
    }

    @Override
    public boolean supportsHugePages() {
        return config.hugePages();
    }

    @Override
    public synchronized HostBuffer allocate(long bytes, String purpose) {
        requireNonNull(purpose, "purpose is null");
        if (bytes <= 0 || bytes % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("host allocation must be a positive multiple of 4096: " + bytes);
        }
        if (closed) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "the GPU is closed");
        }
        if (hostBytesInUse + bytes > config.hostMemoryBytes()) {
            throw new GvtException(ErrorCode.NO_SPACE, "host memory exhausted allocating " + bytes + " bytes for "
                    + purpose + ": " + hostBytesInUse + " of " + config.hostMemoryBytes() + " in use");
        }
        MemorySegment segment;
        if (bytes == PAGE_SIZE) {
            if (freePages.isEmpty()) {
                MemorySegment slab = arena.allocate(SLAB, PAGE_SIZE);
                for (long off = 0; off < SLAB; off += PAGE_SIZE) {
                    freePages.add(slab.asSlice(off, PAGE_SIZE));
                }
            }
            segment = freePages.removeLast();
            segment.fill((byte) 0);
        } else {
            segment = arena.allocate(bytes, PAGE_SIZE);
        }
        long address = devices.map(segment, DeviceAddressSpace.Owner.HOST);
        hostBytesInUse += bytes;
        return new SimBuffer(address, segment, purpose);
    }

    /** Bytes of host-owned memory allocated and not yet freed. */
    public synchronized long hostBytesInUse() {
        return hostBytesInUse;
    }

    /** Frames of device address space mapped (DMA and host). */
    public synchronized long mappedFrames() {
        return devices.mappedFrames();
    }

    /** Whether {@code deviceAddress} lies in a live DMA mapping of a guest page (not host memory). */
    public boolean isDmaMapped(long deviceAddress) {
        return devices.owner(deviceAddress) == DeviceAddressSpace.Owner.DMA;
    }

    /** Whether {@code deviceAddress} lies in live host-owned memory. */
    public boolean isHostMemory(long deviceAddress) {
        return devices.owner(deviceAddress) == DeviceAddressSpace.Owner.HOST;
    }

    /** The 4 KiB page behind {@code deviceAddress}, or null when nothing is mapped there. */
    MemorySegment page(long deviceAddress) {
        return devices.frame(deviceAddress >>> 12);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= config.ggttEntries()) {
            throw new IllegalArgumentException("GGTT index " + index + " outside [0, " + config.ggttEntries() + ")");
        }
    }

    private synchronized void free(SimBuffer buffer) {
        devices.unmap(buffer.deviceAddress, DeviceAddressSpace.Owner.HOST);
        mappingChanges.incrementAndGet();
        hostBytesInUse -= buffer.segment.byteSize();
        if (buffer.segment.byteSize() == PAGE_SIZE) {
            freePages.add(buffer.segment);
        }
    }

    private final class SimBuffer implements HostBuffer {
        private final long deviceAddress;
        private final MemorySegment segment;
        private final String purpose;
        private boolean closed;

        SimBuffer(long deviceAddress, MemorySegment segment, String purpose) {
            this.deviceAddress = deviceAddress;
            this.segment = segment;
            this.purpose = purpose;
        }

        @Override
        public long deviceAddress() {
            return deviceAddress;
        }

        @Override
        public MemorySegment segment() {
            return segment;
        }

        @Override
        public void close() {
            synchronized (SimGpu.this) {
                if (closed || SimGpu.this.closed) {
                    return;
                }
                closed = true;
                free(this);
            }
        }

        @Override
        public String toString() {
            return purpose + "@0x" + Long.toHexString(deviceAddress);
        }
    }
}
