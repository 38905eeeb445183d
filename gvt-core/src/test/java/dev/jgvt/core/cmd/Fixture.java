package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A vGPU with aperture [1 MiB, 2 MiB) and hidden range [64 MiB, 65 MiB), graphics memory backed by native
 * segments, plus "foreign" memory at [3 MiB, 4 MiB) that is mapped (another vGPU's) but outside the partition.
 */
final class Fixture implements AutoCloseable {
    static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final long APERTURE = 0x100000;
    static final long HIDDEN = 0x4000000;
    static final long FOREIGN = 0x300000;
    static final long SIZE = 0x100000;
    static final long HWSP = 0x7000000;
    static final VgpuPartition PARTITION = new VgpuPartition(new GmRange(APERTURE, SIZE), new GmRange(HIDDEN, SIZE), 0, 4);

    final Arena arena = Arena.ofConfined();
    final MemorySegment aperture = arena.allocate(SIZE, 4096);
    final MemorySegment hidden = arena.allocate(SIZE, 4096);
    final MemorySegment foreign = arena.allocate(SIZE, 4096);
    final RecordingMemory ggtt;
    final RecordedEvents events = new RecordedEvents();

    Fixture() {
        SegmentGraphicsMemory gm = new SegmentGraphicsMemory().map(APERTURE, aperture).map(HIDDEN, hidden)
                .map(FOREIGN, foreign);
        ggtt = new RecordingMemory(gm);
    }

    WorkloadContext context(Engine engine) {
        return new WorkloadContext(engine, PARTITION, ggtt, null, HWSP, events);
    }

    /** Writes dwords at graphics address {@code gma}. */
    void write(long gma, int... dws) {
        MemorySegment seg;
        long base;
        if (gma >= APERTURE && gma < APERTURE + SIZE) {
            seg = aperture;
            base = APERTURE;
        } else if (gma >= HIDDEN && gma < HIDDEN + SIZE) {
            seg = hidden;
            base = HIDDEN;
        } else {
            seg = foreign;
            base = FOREIGN;
        }
        for (int i = 0; i < dws.length; i++) {
            seg.set(DW, gma - base + 4L * i, dws[i]);
        }
    }

    static int mi(int opcode, int len) {
        return len == 1 ? opcode << 23 : (opcode << 23) | (len - 2);
    }

    static int[] bbStart(long gma, boolean ppgtt, boolean second) {
        return new int[] {(0x31 << 23) | 1 | (ppgtt ? 1 << 8 : 0) | (second ? 1 << 22 : 0), (int) gma,
            (int) (gma >>> 32)};
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Records every range the scanner reads, to prove reads stay inside the vGPU's partition. */
    static final class RecordingMemory implements GraphicsMemory {
        final GraphicsMemory inner;
        long outsideReads;
        long lastOutside = -1;

        RecordingMemory(GraphicsMemory inner) {
            this.inner = inner;
        }

        @Override
        public void copy(long gma, MemorySegment dst, long dstOffset, long length) throws GmUnmappedException {
            if (!PARTITION.containsGm(gma, length)) {
                outsideReads++;
                lastOutside = gma;
            }
            inner.copy(gma, dst, dstOffset, length);
        }
    }
}
