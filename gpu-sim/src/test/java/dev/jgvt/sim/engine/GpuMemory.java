package dev.jgvt.sim.engine;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.sim.GpuAddressSpace;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * A software GPU with host memory mapped into its GGTT and into one 4-level PPGTT whose tables live in host
 * memory, so every engine access goes through the real walker. Pages of one mapping are separate host pages
 * mapped in reverse device order, so a contiguous graphics range is not contiguous behind the GTT.
 */
final class GpuMemory implements AutoCloseable {
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final SimGpu gpu = new SimGpu(new SimGpuConfig(1 << 14, 1 << 16, 64L << 20, true));
    final SimEngines engines = new SimEngines(gpu);
    final HostBuffer pml4 = gpu.allocate(4096, "pml4");
    final GpuAddressSpace ppgtt = new GpuAddressSpace.Ppgtt4(pml4.deviceAddress());
    private final Map<Long, MemorySegment> tables = new HashMap<>();

    /** A graphics range's pages, as the CPU sees them. */
    record Surface(long address, MemorySegment[] pages) {
        int getInt(long offset) {
            return pages[(int) (offset >>> 12)].get(INT, offset & 0xFFF);
        }

        void setInt(long offset, int value) {
            pages[(int) (offset >>> 12)].set(INT, offset & 0xFFF, value);
        }

        byte getByte(long offset) {
            return pages[(int) (offset >>> 12)].get(ValueLayout.JAVA_BYTE, offset & 0xFFF);
        }

        void setByte(long offset, byte value) {
            pages[(int) (offset >>> 12)].set(ValueLayout.JAVA_BYTE, offset & 0xFFF, value);
        }

        /** The whole surface's bytes. */
        byte[] bytes() {
            byte[] all = new byte[pages.length * 4096];
            for (int i = 0; i < pages.length; i++) {
                MemorySegment.copy(pages[i], ValueLayout.JAVA_BYTE, 0, all, i * 4096, 4096);
            }
            return all;
        }

        void fill(java.util.Random random) {
            for (MemorySegment page : pages) {
                for (int i = 0; i < 4096; i += 4) {
                    page.set(INT, i, random.nextInt());
                }
            }
        }

        long getLong(long offset) {
            return (getInt(offset) & 0xFFFF_FFFFL) | ((long) getInt(offset + 4) << 32);
        }
    }

    /** Maps {@code pages} fresh pages at GGTT address {@code gm}. */
    Surface ggtt(long gm, int pages) {
        MemorySegment[] segments = new MemorySegment[pages];
        for (int i = pages - 1; i >= 0; i--) {
            HostBuffer b = gpu.allocate(4096, "ggtt page");
            segments[i] = b.segment();
            gpu.ggttWrite((int) (gm >>> 12) + i, b.deviceAddress() | 3);
        }
        return new Surface(gm, segments);
    }

    /**
     * Maps {@code pages} fresh pages at {@code gm} in the GGTT and at the same address in the PPGTT, so the ring
     * (GGTT stores) and non-privileged PPGTT batches (PPGTT stores) reach the same memory.
     */
    Surface both(long gm, int pages) {
        Surface s = ggtt(gm, pages);
        for (int i = 0; i < pages; i++) {
            long page = gm + 4096L * i;
            MemorySegment pt = table(table(table(pml4.segment(), page >>> 39), page >>> 30), page >>> 21);
            pt.set(LONG, ((page >>> 12) & 0x1FF) * 8, (gpu.ggttRead((int) (page >>> 12)) & ~0xFFFL) | 3);
        }
        return s;
    }

    /** Maps {@code pages} fresh pages at PPGTT address {@code va}. */
    Surface ppgtt(long va, int pages) {
        MemorySegment[] segments = new MemorySegment[pages];
        for (int i = pages - 1; i >= 0; i--) {
            HostBuffer b = gpu.allocate(4096, "ppgtt page");
            segments[i] = b.segment();
            long page = va + 4096L * i;
            MemorySegment pt = table(table(table(pml4.segment(), page >>> 39), page >>> 30), page >>> 21);
            pt.set(LONG, ((page >>> 12) & 0x1FF) * 8, b.deviceAddress() | 3);
        }
        return new Surface(va, segments);
    }

    private MemorySegment table(MemorySegment parent, long index) {
        long slot = (index & 0x1FF) * 8;
        long entry = parent.get(LONG, slot);
        if ((entry & 1) == 0) {
            HostBuffer child = gpu.allocate(4096, "page table");
            parent.set(LONG, slot, child.deviceAddress() | 3);
            tables.put(child.deviceAddress(), child.segment());
            return child.segment();
        }
        return tables.get(entry & 0x3FFF_FFFF_F000L);
    }

    @Override
    public void close() {
        gpu.close();
    }

    /** A ring buffer in the GGTT that commands are written into at {@link #tail}, wrapping. */
    final class Ring {
        final Surface surface;
        final int size;
        int tail;

        Ring(long gm, int size, int start) {
            this.surface = ggtt(gm, size / 4096);
            this.size = size;
            this.tail = start;
        }

        Ring emit(int... dwords) {
            for (int d : dwords) {
                surface.setInt(tail, d);
                tail = (tail + 4) % size;
            }
            return this;
        }

        /** Pads with MI_NOOP to a qword boundary and executes [head, tail). */
        Completion run(Engine engine, int head) {
            return run(engine, head, Submission.DEFAULT_MAX_COMMANDS);
        }

        Completion run(Engine engine, int head, int maxCommands) {
            return engines.submit(submission(engine, head, maxCommands));
        }

        /** Pads with MI_NOOP to a qword boundary; the submission of [head, tail). */
        Submission submission(Engine engine, int head, int maxCommands) {
            if ((tail & 7) != 0) {
                emit(Cmd.NOOP);
            }
            return new Submission(engine, surface.address(), size, head, tail, ppgtt, maxCommands);
        }
    }

    Ring ring(long gm, int size, int start) {
        return new Ring(gm, size, start);
    }
}
