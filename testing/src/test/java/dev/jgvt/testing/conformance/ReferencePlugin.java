package dev.jgvt.testing.conformance;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.Capability;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import dev.jgvt.spi.InterruptSink;
import dev.jgvt.spi.PageTracker;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A deliberately simple, single-lock in-memory plugin that the kit's own tests run the kit against: once
 * correct (it must pass every check) and once per {@link Defect} (the matching checks must fail). It shows
 * that the kit's checks are not vacuous, independently of the real plugins.
 */
final class ReferencePlugin implements HypervisorPlugin {
    /** One way of breaking the SPI contracts. */
    enum Defect {
        /** trackedWrite is called before the bytes are in guest RAM (contract 1). */
        NOTIFY_BEFORE_COMMIT,
        /** A multi-frame guest write is reported once, not per frame. */
        REPORT_WHOLE_WRITE_ONCE,
        /** The core's own GuestMemory writes to tracked frames are reported. */
        REPORT_CORE_WRITES,
        /** Guest writes are reported whether the frame is tracked or not. */
        REPORT_UNTRACKED,
        /** Pins are a per-frame flag, not a count. */
        IGNORE_PIN_REFCOUNT,
        /** A pin failing on an unmapped frame leaves the frames before it pinned. */
        LEAK_FAILED_PIN,
        /** After dmaUnmapped the plugin does not check for pins left. */
        NO_UNMAP_VERIFY,
        /** After dmaUnmapped the plugin waits for pins left to go away (hangs). */
        HANG_ON_KEPT_PIN,
        /** RAM is removed without calling dmaUnmapped. */
        NO_UNMAP_NOTIFY,
        /** signalMsi delivers to the consumer on the signalling thread (blocks when it is slow). */
        BLOCKING_MSI,
        /** Accesses outside RAM throw IndexOutOfBoundsException instead of a GvtException. */
        UNTYPED_ERRORS,
        /** Pins of more than 512 frames are accepted. */
        NO_PIN_LIMIT,
        /** Pin views are plain slices of RAM: still usable after unpin. */
        STALE_SEGMENTS,
        /** A second close of a binding throws. */
        DETACH_NOT_IDEMPOTENT,
        /** Services keep working after detach. */
        SERVICES_WORK_AFTER_DETACH,
        /** Any target kind is accepted. */
        ACCEPT_ANY_TARGET,
        /** A wrapping range is NOT_MAPPED instead of OUT_OF_RANGE. */
        WRAP_AS_NOT_MAPPED,
        /** untrack drops the frame however often it was tracked. */
        UNTRACK_NOT_COUNTED,
        /** A write stops at the first page boundary. */
        PARTIAL_WRITE_ACROSS_PAGES,
        /** Closing the hypervisor leaves its bindings attached. */
        HYPERVISOR_CLOSE_LEAVES_BINDINGS,
        /** A guest can be attached twice. */
        DUPLICATE_ATTACH_ALLOWED,
        /** No pin is ever contiguous, although HUGE_PAGE_PIN_2M is declared. */
        NO_CONTIGUOUS,
        /** isBacked throws for a negative gfn. */
        IS_BACKED_THROWS,
        /** Read-only RAM is written anyway. */
        IGNORE_READ_ONLY,
        /** Reads and writes do not check for detach: the closed RAM arena's IllegalStateException escapes. */
        RAW_ERRORS_AFTER_DETACH
    }

    private static final int PAGE = GuestMemory.PAGE_SIZE;

    private final Set<Defect> defects;

    ReferencePlugin(Set<Defect> defects) {
        this.defects = defects.isEmpty() ? EnumSet.noneOf(Defect.class) : EnumSet.copyOf(defects);
    }

    private boolean has(Defect defect) {
        return defects.contains(defect);
    }

    @Override
    public String id() {
        return "reference";
    }

    @Override
    public Set<Capability> capabilities() {
        return Set.of(Capability.PAGE_TRACKING, Capability.GUEST_PAGE_DMA, Capability.HUGE_PAGE_PIN_2M);
    }

    @Override
    public Hypervisor open(HostContext context) {
        return new RefHypervisor();
    }

    final class RefHypervisor implements Hypervisor {
        private final Map<String, RefBinding> byGuest = new HashMap<>();
        private final Map<String, RefBinding> byVgpu = new HashMap<>();
        private boolean closed;

        @Override
        public synchronized GuestBinding attach(AttachRequest request, DeviceModel device) {
            if (closed) {
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "closed");
            }
            String guestName;
            long ramBytes;
            if (request.target() instanceof AttachRequest.InProcess target) {
                guestName = target.guestName();
                ramBytes = target.ramBytes();
            } else if (has(Defect.ACCEPT_ANY_TARGET)) {
                guestName = request.vgpuName();
                ramBytes = 1 << 20;
            } else {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "not an in-process target: " + request.target());
            }
            if (!has(Defect.DUPLICATE_ATTACH_ALLOWED) && (byGuest.containsKey(guestName) || byVgpu.containsKey(request.vgpuName()))) {
                throw new GvtException(ErrorCode.ALREADY_EXISTS, "attached already: " + request);
            }
            RefBinding binding = new RefBinding(ramBytes, device);
            byGuest.put(guestName, binding);
            byVgpu.put(request.vgpuName(), binding);
            return binding;
        }

        @Override
        public void close() {
            List<RefBinding> bindings;
            synchronized (this) {
                closed = true;
                bindings = new ArrayList<>(byGuest.values());
            }
            if (!has(Defect.HYPERVISOR_CLOSE_LEAVES_BINDINGS)) {
                bindings.forEach(RefBinding::closeQuietly);
            }
        }
    }

    /** One guest: binding and every service in one object, one lock. */
    final class RefBinding implements GuestBinding, GuestMemory, GuestPages, PageTracker, InterruptSink {
        private final long size;
        private final DeviceModel device;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment ram;
        private final BitSet removed = new BitSet();
        private final BitSet readOnly = new BitSet();
        private final Map<Long, Integer> pinCounts = new HashMap<>();
        private final List<RefPin> pins = new ArrayList<>();
        private final Map<Long, Integer> tracked = new HashMap<>();
        private final AtomicLong delivered = new AtomicLong();
        private final ExecutorService delivery = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "reference-msi");
            thread.setDaemon(true);
            return thread;
        });
        private volatile Optional<LongConsumer> listener = Optional.empty();
        private boolean closed;

        RefBinding(long size, DeviceModel device) {
            this.size = size;
            this.device = requireNonNull(device, "device is null");
            this.ram = arena.allocate(size, PAGE);
        }

        // ---- binding

        @Override
        public synchronized GuestMemory memory() {
            checkOpen();
            return this;
        }

        @Override
        public synchronized GuestPages pages() {
            checkOpen();
            return this;
        }

        @Override
        public synchronized Optional<PageTracker> tracker() {
            checkOpen();
            return Optional.of(this);
        }

        @Override
        public synchronized InterruptSink interrupts() {
            checkOpen();
            return this;
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed && has(Defect.DETACH_NOT_IDEMPOTENT)) {
                    throw new IllegalStateException("already closed");
                }
            }
            closeQuietly();
        }

        void closeQuietly() {
            List<RefPin> held;
            synchronized (this) {
                if (closed) {
                    return;
                }
                held = new ArrayList<>(pins);
                if (has(Defect.SERVICES_WORK_AFTER_DETACH)) {
                    return;
                }
                closed = true;
                notifyAll();
            }
            held.forEach(RefPin::close);
            delivery.shutdownNow();
            arena.close();
        }

        private void checkOpen() {
            if (closed) {
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "detached");
            }
        }

        // ---- memory

        private void check(long gpa, long length) {
            if (length == 0) {
                return;
            }
            if (!has(Defect.WRAP_AS_NOT_MAPPED) && Long.compareUnsigned(gpa + length - 1, gpa) < 0) {
                throw new GvtException(ErrorCode.OUT_OF_RANGE, "wraps: 0x" + Long.toHexString(gpa));
            }
            if (gpa < 0 || length > size || gpa > size - length) {
                if (has(Defect.UNTYPED_ERRORS)) {
                    throw new IndexOutOfBoundsException("gpa 0x" + Long.toHexString(gpa));
                }
                throw new GvtException(ErrorCode.NOT_MAPPED, "outside RAM: 0x" + Long.toHexString(gpa));
            }
            int hole = removed.nextSetBit((int) (gpa / PAGE));
            if (hole >= 0 && hole <= (gpa + length - 1) / PAGE) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "removed frame 0x" + Integer.toHexString(hole));
            }
        }

        @Override
        public synchronized void read(long gpa, MemorySegment dst) {
            if (!has(Defect.RAW_ERRORS_AFTER_DETACH)) {
                checkOpen();
            }
            check(gpa, dst.byteSize());
            if (dst.byteSize() > 0) {
                MemorySegment.copy(ram, gpa, dst, 0, dst.byteSize());
            }
        }

        @Override
        public void write(long gpa, MemorySegment src) {
            synchronized (this) {
                if (!has(Defect.RAW_ERRORS_AFTER_DETACH)) {
                    checkOpen();
                }
                check(gpa, src.byteSize());
                if (src.byteSize() > 0) {
                    checkWritable(gpa / PAGE, (gpa + src.byteSize() + PAGE - 1) / PAGE);
                }
                long length = src.byteSize();
                if (has(Defect.PARTIAL_WRITE_ACROSS_PAGES)) {
                    length = Math.min(length, PAGE - (gpa % PAGE));
                }
                if (length > 0) {
                    MemorySegment.copy(src, 0, ram, gpa, length);
                }
            }
            if (has(Defect.REPORT_CORE_WRITES)) {
                report(gpa, src, false);
            }
        }

        private void checkWritable(long startGfn, long endGfn) {
            int locked = readOnly.nextSetBit((int) startGfn);
            if (!has(Defect.IGNORE_READ_ONLY) && locked >= 0 && locked < endGfn) {
                throw new GvtException(ErrorCode.PERMISSION_DENIED, "read-only frame 0x" + Integer.toHexString(locked));
            }
        }

        synchronized void protect(long gpa, long length) {
            readOnly.set((int) (gpa / PAGE), (int) ((gpa + length) / PAGE));
        }

        @Override
        public synchronized boolean isBacked(long gfn) {
            if (gfn < 0 && has(Defect.IS_BACKED_THROWS)) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "negative gfn");
            }
            return !closed && gfn >= 0 && gfn < size / PAGE && !removed.get((int) gfn);
        }

        // ---- guest side (harness)

        void guestWrite(long gpa, MemorySegment src) {
            synchronized (this) {
                checkOpen();
                check(gpa, src.byteSize());
            }
            if (has(Defect.REPORT_WHOLE_WRITE_ONCE)) {
                synchronized (this) {
                    MemorySegment.copy(src, 0, ram, gpa, src.byteSize());
                }
                if (isTracked(gpa / PAGE)) {
                    device.trackedWrite(gpa, src);
                }
                return;
            }
            if (has(Defect.NOTIFY_BEFORE_COMMIT)) {
                report(gpa, src, true);
            }
            synchronized (this) {
                MemorySegment.copy(src, 0, ram, gpa, src.byteSize());
            }
            if (!has(Defect.NOTIFY_BEFORE_COMMIT)) {
                report(gpa, src, true);
            }
        }

        private void report(long gpa, MemorySegment src, boolean guest) {
            long done = 0;
            while (done < src.byteSize()) {
                long at = gpa + done;
                long chunk = Math.min(src.byteSize() - done, PAGE - (at % PAGE));
                if (isTracked(at / PAGE) || (guest && has(Defect.REPORT_UNTRACKED))) {
                    device.trackedWrite(at, src.asSlice(done, chunk));
                }
                done += chunk;
            }
        }

        void removeRam(long gpa, long length) {
            synchronized (this) {
                checkOpen();
            }
            if (!has(Defect.NO_UNMAP_NOTIFY)) {
                device.dmaUnmapped(gpa, length);
            }
            long start = gpa / PAGE;
            long end = (gpa + length) / PAGE;
            synchronized (this) {
                removed.set((int) start, (int) end);
                tracked.keySet().removeIf(f -> f >= start && f < end);
                if (has(Defect.NO_UNMAP_VERIFY)) {
                    return;
                }
                while (has(Defect.HANG_ON_KEPT_PIN) && !closed && !framesLeft(start, end).isEmpty()) {
                    try {
                        wait(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                TreeSet<Long> left = framesLeft(start, end);
                if (!left.isEmpty()) {
                    throw new GvtException(ErrorCode.BUSY, "frames still pinned after dmaUnmapped: "
                            + left.stream().map(f -> "0x" + Long.toHexString(f)).toList());
                }
            }
        }

        private TreeSet<Long> framesLeft(long start, long end) {
            TreeSet<Long> left = new TreeSet<>();
            pinCounts.keySet().stream().filter(f -> f >= start && f < end).forEach(left::add);
            return left;
        }

        void setListener(Optional<LongConsumer> listener) {
            this.listener = listener;
        }

        long delivered() {
            return delivered.get();
        }

        // ---- pages

        @Override
        public synchronized PinnedPages pin(long gfn, int count, Access access) {
            checkOpen();
            if (count < 1 || gfn < 0) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "bad pin: gfn " + gfn + " count " + count);
            }
            if (count > MAX_PAGES_PER_PIN && !has(Defect.NO_PIN_LIMIT)) {
                throw new GvtException(ErrorCode.LIMIT_EXCEEDED, "pin of " + count);
            }
            if (gfn >= size / PAGE) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "frame 0x" + Long.toHexString(gfn));
            }
            for (long f = gfn; f < gfn + count; f++) {
                if (f >= size / PAGE || removed.get((int) f)) {
                    throw new GvtException(ErrorCode.NOT_MAPPED, "frame 0x" + Long.toHexString(f));
                }
                if (has(Defect.LEAK_FAILED_PIN)) {
                    pinCounts.merge(f, 1, Integer::sum);
                }
            }
            if (access.writes()) {
                checkWritable(gfn, gfn + count);
            }
            if (!has(Defect.LEAK_FAILED_PIN)) {
                for (long f = gfn; f < gfn + count; f++) {
                    if (has(Defect.IGNORE_PIN_REFCOUNT)) {
                        pinCounts.put(f, 1);
                    } else {
                        pinCounts.merge(f, 1, Integer::sum);
                    }
                }
            }
            RefPin pin = new RefPin(this, gfn, count, ram.asSlice(gfn * PAGE, (long) count * PAGE));
            pins.add(pin);
            return pin;
        }

        synchronized void unpin(RefPin pin) {
            pins.remove(pin);
            for (long f = pin.gfn(); f < pin.gfn() + pin.count(); f++) {
                if (has(Defect.IGNORE_PIN_REFCOUNT)) {
                    pinCounts.remove(f);
                } else {
                    pinCounts.computeIfPresent(f, (k, v) -> v == 1 ? null : v - 1);
                }
            }
            notifyAll();
        }

        // ---- tracker

        @Override
        public synchronized void track(long gfn) {
            checkOpen();
            if (!isBacked(gfn)) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "frame 0x" + Long.toHexString(gfn));
            }
            tracked.merge(gfn, 1, Integer::sum);
        }

        @Override
        public synchronized void untrack(long gfn) {
            checkOpen();
            if (!tracked.containsKey(gfn)) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "not tracked: 0x" + Long.toHexString(gfn));
            }
            if (has(Defect.UNTRACK_NOT_COUNTED)) {
                tracked.remove(gfn);
            } else {
                tracked.computeIfPresent(gfn, (k, v) -> v == 1 ? null : v - 1);
            }
        }

        @Override
        public synchronized boolean isTracked(long gfn) {
            return !closed && tracked.containsKey(gfn);
        }

        // ---- interrupts

        @Override
        public void signalMsi() {
            synchronized (this) {
                checkOpen();
            }
            Optional<LongConsumer> l = listener;
            if (l.isEmpty()) {
                delivered.incrementAndGet();
            } else if (has(Defect.BLOCKING_MSI)) {
                l.get().accept(delivered.incrementAndGet());
            } else {
                delivery.execute(() -> l.get().accept(delivered.incrementAndGet()));
            }
        }
    }

    /** A pin; its view lives in an arena of its own unless the plugin is {@link Defect#STALE_SEGMENTS}. */
    final class RefPin implements PinnedPages {
        private final RefBinding binding;
        private final long gfn;
        private final int count;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment view;
        private boolean closed;

        @SuppressWarnings("restricted") // the view stays inside guest RAM, closed before RAM is freed
        RefPin(RefBinding binding, long gfn, int count, MemorySegment ram) {
            this.binding = binding;
            this.gfn = gfn;
            this.count = count;
            this.view = has(Defect.STALE_SEGMENTS) ? ram : ram.reinterpret(arena, null);
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
            return view.asSlice((long) index * PAGE, PAGE);
        }

        @Override
        public Optional<MemorySegment> contiguous() {
            return has(Defect.NO_CONTIGUOUS) ? Optional.empty() : Optional.of(view);
        }

        @Override
        public synchronized boolean isClosed() {
            return closed;
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            arena.close();
            binding.unpin(this);
        }
    }
}
