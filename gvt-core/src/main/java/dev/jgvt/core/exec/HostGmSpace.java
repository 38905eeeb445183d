package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.core.vgpu.HostGeometry;
import dev.jgvt.core.vgpu.RangeAllocator;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;

/**
 * The host's own graphics memory (part of the host reservation in the GGTT, never a vGPU's): shadow rings,
 * shadow batch buffers and hardware status pages live here, in host-owned memory mapped through host GGTT
 * entries. Thread-safe.
 */
public final class HostGmSpace {
    private static final long PAGE = HostGpu.PAGE_SIZE;

    private final HostGpu gpu;
    private final RangeAllocator ranges;
    private final long scratchEntry;

    /**
     * @param base first graphics address (page aligned) of the host range used here
     * @param size its size in bytes (a multiple of 4 KiB)
     * @param scratchEntry the GGTT entry that unused pages of the range get back
     */
    HostGmSpace(HostGpu gpu, long base, long size, long scratchEntry) {
        this.gpu = requireNonNull(gpu, "gpu is null");
        this.ranges = new RangeAllocator(base, base + size, PAGE);
        this.scratchEntry = scratchEntry;
    }

    /**
     * The host's high (hidden) graphics memory reservation of {@code geometry}: GM that no vGPU is ever given
     * and the CPU never needs to see through the aperture.
     */
    public static HostGmSpace hostHighGm(HostGpu gpu, HostGeometry geometry) {
        long base = geometry.apertureSize();
        long size = Math.min(HostGeometry.HOST_HIGH_GM, geometry.ggttSize() - base);
        if (size < 16 * PAGE) {
            throw new GvtException(ErrorCode.NO_SPACE, "the host GGTT keeps only " + size + " bytes of high GM");
        }
        return new HostGmSpace(gpu, base, size, 0);
    }

    /** A host buffer mapped at a graphics address; {@link #close()} unmaps and frees both. */
    final class Mapping implements AutoCloseable {
        private final HostBuffer buffer;
        private final long gma;
        private boolean closed;

        private Mapping(HostBuffer buffer, long gma) {
            this.buffer = buffer;
            this.gma = gma;
        }

        HostBuffer buffer() {
            return buffer;
        }

        /** The host graphics address of byte 0. */
        long gma() {
            return gma;
        }

        long size() {
            return buffer.segment().byteSize();
        }

        @Override
        public void close() {
            synchronized (HostGmSpace.this) {
                if (closed) {
                    return;
                }
                closed = true;
                long pages = size() / PAGE;
                for (long i = 0; i < pages; i++) {
                    gpu.ggttWrite((int) ((gma >>> 12) + i), scratchEntry);
                }
                ranges.free(gma);
            }
            buffer.close();
        }
    }

    /**
     * Allocates {@code bytes} (a positive multiple of 4 KiB) of zeroed host memory and maps it into the host's
     * graphics memory.
     *
     * @throws GvtException {@link ErrorCode#NO_SPACE} when the host range or host memory is exhausted
     */
    Mapping map(long bytes, String purpose) {
        HostBuffer buffer = gpu.allocate(bytes, purpose);
        long gma;
        synchronized (this) {
            gma = ranges.allocate(bytes);
        }
        if (gma < 0) {
            buffer.close();
            throw new GvtException(ErrorCode.NO_SPACE, "no host graphics memory left for " + bytes + " bytes of " + purpose);
        }
        long pages = bytes / PAGE;
        for (long i = 0; i < pages; i++) {
            gpu.ggttWrite((int) ((gma >>> 12) + i), (buffer.deviceAddress() + i * PAGE) | GttEntry.PRESENT);
        }
        return new Mapping(buffer, gma);
    }

    /** Bytes of the range not mapped. */
    synchronized long freeBytes() {
        return ranges.freeTotal();
    }
}
