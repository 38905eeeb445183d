package dev.jgvt.cli;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.host.HostCompletion;
import dev.jgvt.core.host.HostSubmission;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.guest.SubmitLoop;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The unmediated path: the workload's bytes in host memory, executed directly in an address space of the same
 * kind the guest uses — the ring and the store page in the host GGTT, the surface through a 4-level PPGTT of
 * 4 KiB pages built here in host memory at the guest's virtual address — so that both paths make the software
 * GPU do the same translation work and the ratio shows what mediation costs.
 */
final class DirectSubmissions {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Host graphics addresses of the ring and the store page (a GM range no vGPU uses). */
    private static final long RING = 0x10_0000L;
    private static final long STORE = 0x20_0000L;
    private static final long SURFACE_VA = 0x4000_0000L;
    private static final long PRESENT_RW = 0b11;
    private final SimGpu gpu;
    private final MemorySegment ring;
    private final MemorySegment store;
    private final long pml4;
    private int sequence;

    /** Maps a ring, a store page and a surface for fills of up to {@code maxSide} pixels square on {@code gpu}. */
    DirectSubmissions(SimGpu gpu, int maxSide) {
        this.gpu = gpu;
        this.ring = map(gpu, RING, 4096).segment();
        this.store = map(gpu, STORE, 4096).segment();
        this.pml4 = mapPpgtt(gpu, SURFACE_VA, Arena.ofAuto().allocate(SubmitLoop.surfaceBytes(maxSide), 4096));
    }

    private static HostBuffer map(SimGpu gpu, long gma, long bytes) {
        HostBuffer buffer = gpu.allocate(bytes, "bench");
        for (long off = 0; off < bytes; off += 4096) {
            gpu.ggttWrite((int) ((gma + off) >>> 12), (buffer.deviceAddress() + off) | 1);
        }
        return buffer;
    }

    /**
     * Maps {@code surface} at {@code va} in a new 4-level PPGTT of 4 KiB pages, each page DMA-mapped on its own
     * as the core maps a guest's pinned pages; returns the PML4's device address.
     */
    private static long mapPpgtt(SimGpu gpu, long va, MemorySegment surface) {
        HostBuffer pml4 = table(gpu);
        java.util.Map<Long, HostBuffer> tables = new java.util.HashMap<>();
        for (long off = 0; off < surface.byteSize(); off += 4096) {
            long a = va + off;
            HostBuffer pdp = next(gpu, tables, pml4, (a >>> 39) & 0x1FF, a >>> 39 << 2 | 3);
            HostBuffer pd = next(gpu, tables, pdp, (a >>> 30) & 0x1FF, a >>> 30 << 2 | 2);
            HostBuffer pt = next(gpu, tables, pd, (a >>> 21) & 0x1FF, a >>> 21 << 2 | 1);
            pt.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, ((a >>> 12) & 0x1FF) * 8,
                    gpu.dmaMap(surface.asSlice(off, 4096)) | PRESENT_RW);
        }
        return pml4.deviceAddress();
    }

    private static HostBuffer next(SimGpu gpu, java.util.Map<Long, HostBuffer> tables, HostBuffer parent, long index,
            long key) {
        return tables.computeIfAbsent(key, k -> {
            HostBuffer child = table(gpu);
            parent.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, index * 8, child.deviceAddress() | PRESENT_RW);
            return child;
        });
    }

    private static HostBuffer table(SimGpu gpu) {
        HostBuffer t = gpu.allocate(4096, "bench page table");
        t.segment().fill((byte) 0);
        return t;
    }

    /**
     * Runs {@code n} workloads as {@link #run} does, one call each, timing each call (two clock reads around it, outside
     * {@link #run}'s loop so that the throughput rounds run unchanged code); returns the nanoseconds they took: the
     * software GPU's execution and the few hundred nanoseconds of writing the ring and checking the store.
     */
    long runTimed(int n, int side) {
        long nanos = 0;
        for (int i = 0; i < n; i++) {
            long started = System.nanoTime();
            run(1, side);
            nanos += System.nanoTime() - started;
        }
        return nanos;
    }

    /** Runs the workload {@code n} times with a fill of {@code side} pixels square, checking each store. */
    void run(int n, int side) {
        long[] roots = {pml4, 0, 0, 0};
        for (int i = 0; i < n; i++) {
            int value = ++sequence;
            int[] commands = SubmitLoop.commands(SURFACE_VA, STORE, value, side);
            int bytes = (commands.length * 4 + 7) & ~7;
            for (int d = 0; d < commands.length; d++) {
                ring.set(DW, d * 4L, commands[d]);
            }
            if (bytes != commands.length * 4) {
                ring.set(DW, commands.length * 4L, 0);
            }
            HostCompletion done = gpu.execute(new HostSubmission(Engine.BCS, RING, 4096, 0, bytes, 4, roots,
                    1 << 20));
            if (!done.completed() || store.get(DW, 0) != value) {
                throw new GvtException(ErrorCode.INTERNAL, "a direct submission failed: " + done);
            }
        }
    }
}
