package dev.jgvt.core.vgpu;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InterruptSink;
import dev.jgvt.spi.PageTracker;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/** A guest of {@code ramSize} bytes of RAM at guest physical 0, counting MSIs. */
final class FakeBinding implements GuestBinding {
    final MemorySegment ram;
    final AtomicInteger msis = new AtomicInteger();
    private final InterruptSink sink = msis::incrementAndGet;
    private final GuestMemory memory = new GuestMemory() {
        @Override
        public void read(long gpa, MemorySegment dst) {
            check(gpa, dst.byteSize());
            MemorySegment.copy(ram, gpa, dst, 0, dst.byteSize());
        }

        @Override
        public void write(long gpa, MemorySegment src) {
            check(gpa, src.byteSize());
            MemorySegment.copy(src, 0, ram, gpa, src.byteSize());
        }

        @Override
        public boolean isBacked(long gfn) {
            return gfn >= 0 && gfn < ram.byteSize() / PAGE_SIZE;
        }
    };

    FakeBinding(long ramSize) {
        ram = Arena.ofAuto().allocate(ramSize, 4096);
    }

    private void check(long gpa, long length) {
        if (gpa < 0 || gpa + length > ram.byteSize()) {
            throw new GvtException(ErrorCode.NOT_MAPPED, "gpa 0x" + Long.toHexString(gpa) + " is not guest RAM");
        }
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public GuestPages pages() {
        throw new UnsupportedOperationException("not needed by the device model tests");
    }

    @Override
    public Optional<PageTracker> tracker() {
        return Optional.empty();
    }

    @Override
    public InterruptSink interrupts() {
        return sink;
    }

    @Override
    public void close() {}
}
