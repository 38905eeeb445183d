package dev.jgvt.sim;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InterruptSink;
import dev.jgvt.spi.PageTracker;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * An in-memory guest for tests: RAM in one segment (gpa 0 .. ramSize), pin reference counts per frame, write
 * tracking per frame, and guest CPU writes that commit first and then report tracked writes (SPI contract 1).
 * Frames can be unmapped (holes) to model DMA unmaps.
 */
public final class TestGuest implements GuestMemory, GuestPages, PageTracker, AutoCloseable {
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final MemorySegment ram;
    private final long frames;
    private final boolean[] hole;
    private final int[] pinRefs;
    private final int[] trackRefs;
    private final List<BiConsumer<Long, MemorySegment>> writeListeners = new ArrayList<>();
    private final MemorySegment scratch8 = arena.allocate(8);
    private boolean contiguousRuns = true;
    private long nextFrame;
    long trackedWrites;
    long pinCalls;

    public TestGuest(long ramBytes) {
        this.ram = arena.allocate(ramBytes, 2 * 1024 * 1024);
        this.frames = ramBytes >>> 12;
        this.hole = new boolean[(int) frames];
        this.pinRefs = new int[(int) frames];
        this.trackRefs = new int[(int) frames];
        this.nextFrame = 16;
    }

    /** Where tracked writes are reported (the device model's trackedWrite). */
    void onTrackedWrite(BiConsumer<Long, MemorySegment> listener) {
        writeListeners.add(listener);
    }

    /** Whether 2 MiB pins report a contiguous run (false forces the split path). */
    void contiguousRuns(boolean on) {
        contiguousRuns = on;
    }

    long ramSize() {
        return frames << 12;
    }

    /** A fresh zeroed guest frame from a bump allocator. */
    long allocFrame() {
        long f = nextFrame++;
        ram.asSlice(f << 12, 4096).fill((byte) 0);
        return f;
    }

    /** 512 fresh frames, 2 MiB aligned. */
    long alloc2m() {
        nextFrame = (nextFrame + 511) & ~511L;
        long f = nextFrame;
        nextFrame += 512;
        return f;
    }

    MemorySegment frameView(long gfn) {
        return ram.asSlice(gfn << 12, 4096);
    }

    // ---------------------------------------------------------------- guest CPU

    /** A guest CPU store of {@code size} (4 or 8) bytes: committed, then reported if the frame is tracked. */
    void cpuWrite(long gpa, long value, int size) {
        long gfn = gpa >>> 12;
        checkBacked(gpa, size);
        if (size == 8) {
            ram.set(LONG, gpa, value);
        } else {
            ram.set(INT, gpa, (int) value);
        }
        if (trackRefs[(int) gfn] > 0) {
            trackedWrites++;
            MemorySegment bytes = scratch8.asSlice(0, size);
            MemorySegment.copy(ram, gpa, bytes, 0, size);
            for (BiConsumer<Long, MemorySegment> l : writeListeners) {
                l.accept(gpa, bytes);
            }
        }
    }

    long cpuRead(long gpa) {
        return ram.get(LONG, gpa);
    }

    /** Guest RAM frames [gfn, gfn + count) disappear (after the caller ran the device model's dmaUnmapped). */
    void makeHole(long gfn, long count) {
        for (long f = gfn; f < gfn + count && f < frames; f++) {
            hole[(int) f] = true;
        }
    }

    /** Frames with at least one pin in [gfn, gfn + count). */
    int pinnedIn(long gfn, long count) {
        int n = 0;
        for (long f = gfn; f < gfn + count && f < frames; f++) {
            n += pinRefs[(int) f] > 0 ? 1 : 0;
        }
        return n;
    }

    int pinnedTotal() {
        return pinnedIn(0, frames);
    }

    /** Whether host address {@code address} lies in this guest's RAM. */
    boolean containsHost(MemorySegment segment) {
        long a = segment.address();
        return a >= ram.address() && a + segment.byteSize() <= ram.address() + ram.byteSize();
    }

    // ---------------------------------------------------------------- GuestMemory

    @Override
    public void read(long gpa, MemorySegment dst) {
        checkBacked(gpa, dst.byteSize());
        MemorySegment.copy(ram, gpa, dst, 0, dst.byteSize());
    }

    @Override
    public void write(long gpa, MemorySegment src) {
        checkBacked(gpa, src.byteSize());
        MemorySegment.copy(src, 0, ram, gpa, src.byteSize());
    }

    @Override
    public boolean isBacked(long gfn) {
        return gfn >= 0 && gfn < frames && !hole[(int) gfn];
    }

    @Override
    public long readLong(long gpa) {
        checkBacked(gpa, 8);
        return ram.get(LONG, gpa);
    }

    private void checkBacked(long gpa, long length) {
        if (gpa < 0 || length < 0 || gpa + length > (frames << 12) || gpa + length < gpa) {
            throw new GvtException(ErrorCode.NOT_MAPPED, "gpa 0x" + Long.toHexString(gpa) + " outside guest RAM");
        }
        for (long f = gpa >>> 12; f <= (gpa + length - 1) >>> 12; f++) {
            if (hole[(int) f]) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "gfn 0x" + Long.toHexString(f) + " unmapped");
            }
        }
    }

    // ---------------------------------------------------------------- GuestPages

    @Override
    public PinnedPages pin(long gfn, int count, Access access) {
        pinCalls++;
        if (count < 1 || gfn < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "bad pin " + gfn + "/" + count);
        }
        if (count > MAX_PAGES_PER_PIN) {
            throw new GvtException(ErrorCode.LIMIT_EXCEEDED, "too many pages " + count);
        }
        for (long f = gfn; f < gfn + count; f++) {
            if (!isBacked(f)) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "gfn 0x" + Long.toHexString(f) + " not RAM");
            }
        }
        for (long f = gfn; f < gfn + count; f++) {
            pinRefs[(int) f]++;
        }
        return new Pin(gfn, count);
    }

    private final class Pin implements PinnedPages {
        private final long gfn;
        private final int count;
        private boolean closed;

        Pin(long gfn, int count) {
            this.gfn = gfn;
            this.count = count;
        }

        @Override
        public long gfn() {
            return gfn;
        }

        @Override
        public int count() {
            return count;
        }

        @Override
        public MemorySegment page(int index) {
            if (closed) {
                throw new IllegalStateException("closed");
            }
            return ram.asSlice((gfn + index) << 12, 4096);
        }

        @Override
        public Optional<MemorySegment> contiguous() {
            return contiguousRuns && !closed ? Optional.of(ram.asSlice(gfn << 12, (long) count << 12)) : Optional.empty();
        }

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                for (long f = gfn; f < gfn + count; f++) {
                    pinRefs[(int) f]--;
                }
            }
        }
    }

    // ---------------------------------------------------------------- PageTracker

    @Override
    public void track(long gfn) {
        if (!isBacked(gfn)) {
            throw new GvtException(ErrorCode.NOT_MAPPED, "gfn 0x" + Long.toHexString(gfn) + " not RAM");
        }
        trackRefs[(int) gfn]++;
    }

    @Override
    public void untrack(long gfn) {
        if (gfn < 0 || gfn >= frames || trackRefs[(int) gfn] == 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "gfn 0x" + Long.toHexString(gfn) + " not tracked");
        }
        trackRefs[(int) gfn]--;
    }

    @Override
    public boolean isTracked(long gfn) {
        return gfn >= 0 && gfn < frames && trackRefs[(int) gfn] > 0;
    }

    int trackedTotal() {
        int n = 0;
        for (int r : trackRefs) {
            n += r > 0 ? 1 : 0;
        }
        return n;
    }

    /** A binding of this guest's memory, pages and tracking, whose interrupts go nowhere (closing it leaves the guest). */
    public GuestBinding binding() {
        TestGuest guest = this;
        return new GuestBinding() {
            @Override
            public GuestMemory memory() {
                return guest;
            }

            @Override
            public GuestPages pages() {
                return guest;
            }

            @Override
            public Optional<PageTracker> tracker() {
                return Optional.of(guest);
            }

            @Override
            public InterruptSink interrupts() {
                return () -> {};
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public void close() {
        arena.close();
    }
}
