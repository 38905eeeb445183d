package dev.jgvt.plugin.fake;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InProcessGuest;
import dev.jgvt.spi.InterruptSink;
import dev.jgvt.spi.PageTracker;
import dev.jgvt.spi.PinnedPages;
import dev.jgvt.spi.PlaneInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One in-process guest attached to one vGPU: the {@link GuestBinding} the core uses, and the handle tests
 * use to script faults. The core only ever sees the SPI interfaces; tests of code running on the fake
 * reach this class through {@link #of(GuestBinding)} or {@link FakeHypervisor#guest(String)}.
 *
 * <p><b>Fault injection</b> (all thread-safe, callable at any moment, also from inside a
 * {@link DeviceModel} callback):
 *
 * <ul>
 *   <li>{@link #failNextPins(int)}: the next pin calls fail with {@link ErrorCode#IO_ERROR}, pinning nothing;
 *   <li>{@link #removeRam(long, long)}: the VMM removes a RAM range, with the full unmap interlock
 *       ({@link DeviceModel#dmaUnmapped}, then a check that no pin is left, failing loudly otherwise);
 *       {@link #restoreRam(long, long)} brings it back, zero-filled;
 *   <li>{@link #setReadOnly(long, long, boolean)}: writes and write pins fail with PERMISSION_DENIED;
 *   <li>{@link #setMsiDelay(Duration)}, {@link #setMsiListener(LongConsumer)}, {@link #maskMsi(boolean)}: slow,
 *       observed or unconfigured interrupt delivery.
 * </ul>
 *
 * <p><b>Locking.</b> Pin and tracking state change under one lock per guest; memory accesses, tracked-frame
 * lookups and MSI signals take no lock. No lock is held while the plugin calls into the device model.
 */
public final class FakeGuest implements GuestBinding {
    private static final Logger log = LoggerFactory.getLogger(FakeGuest.class);

    private final String name;
    private final String vgpuName;
    private final FakeHypervisor owner;
    private final DeviceModel device;
    private final GuestRam ram;
    private final Object lock = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Map<Long, Integer> pinCounts = new HashMap<>();
    private final Set<FakePinnedPages> livePins = ConcurrentHashMap.newKeySet();
    private final Map<Long, Integer> trackCounts = new ConcurrentHashMap<>();
    private int pinFailures;

    private final FakeGuestMemory memory = new FakeGuestMemory(this);
    private final FakeGuestPages pages = new FakeGuestPages(this);
    private final FakePageTracker tracker = new FakePageTracker(this);
    private final FakeInterrupts interrupts;
    private final FakeInProcessGuest guestSide;

    FakeGuest(FakeHypervisor owner, String name, String vgpuName, long ramBytes, DeviceModel device, Duration msiDelay) {
        this.owner = requireNonNull(owner, "owner is null");
        this.name = requireNonNull(name, "name is null");
        this.vgpuName = requireNonNull(vgpuName, "vgpuName is null");
        this.device = requireNonNull(device, "device is null");
        this.ram = new GuestRam(name, ramBytes);
        this.interrupts = new FakeInterrupts(this, msiDelay);
        this.guestSide = new FakeInProcessGuest(this, device);
    }

    /** The fake guest behind a binding the fake hypervisor returned. */
    public static FakeGuest of(GuestBinding binding) {
        if (binding instanceof FakeGuest guest) {
            return guest;
        }
        throw new GvtException(ErrorCode.INVALID_ARGUMENT, "not a binding of the fake hypervisor: " + binding);
    }

    /** The guest's name. */
    public String name() {
        return name;
    }

    /** The name of the vGPU attached to it. */
    public String vgpuName() {
        return vgpuName;
    }

    /** Guest RAM size in bytes. */
    public long ramSize() {
        return ram.size();
    }

    // ---------------------------------------------------------------------------------------------
    // GuestBinding

    @Override
    public GuestMemory memory() {
        checkOpen();
        return memory;
    }

    @Override
    public GuestPages pages() {
        checkOpen();
        return pages;
    }

    @Override
    public Optional<PageTracker> tracker() {
        checkOpen();
        return Optional.of(tracker);
    }

    @Override
    public InterruptSink interrupts() {
        checkOpen();
        return interrupts;
    }

    @Override
    public Optional<InProcessGuest> inProcessGuest() {
        checkOpen();
        return Optional.of(guestSide);
    }

    /** The guest side, for simulators and tests: same as {@code inProcessGuest().orElseThrow()}. */
    public InProcessGuest guestSide() {
        checkOpen();
        return guestSide;
    }

    /**
     * Detaches: revokes every pin still held, drops tracking, stops MSI delivery and frees guest RAM.
     * Idempotent; never throws.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<FakePinnedPages> pins;
        synchronized (lock) {
            pins = new ArrayList<>(livePins);
            livePins.clear();
            pinCounts.clear();
            trackCounts.clear();
        }
        pins.forEach(FakePinnedPages::revoke);
        interrupts.shutdown();
        try {
            ram.close();
        } catch (RuntimeException e) {
            log.error("freeing the RAM of guest {} failed", name, e);
        }
        owner.detached(this);
        if (!pins.isEmpty()) {
            log.info("detached vGPU {} from guest {}; released {} pins still held", vgpuName, name, pins.size());
        } else {
            log.debug("detached vGPU {} from guest {}", vgpuName, name);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // the VMM's side: what a VMM asks of its device (tests and the CLI play the VMM)

    /** The device's layout, as a VMM reads it when it sets the device up. */
    public DeviceLayout deviceLayout() {
        checkOpen();
        return device.layout();
    }

    /** A device reset requested by the VMM (VFIO_DEVICE_RESET), forwarded on the calling thread. */
    public void resetDevice() {
        checkOpen();
        try {
            device.reset();
        } finally {
            guestSide.deviceReset();
        }
    }

    /** The display plane of that type, as a VMM's display asks for it (VFIO_DEVICE_QUERY_GFX_PLANE). */
    public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type) {
        checkOpen();
        if (type == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "type is null");
        }
        return device.queryPlane(type);
    }

    // ---------------------------------------------------------------------------------------------
    // fault injection and inspection (tests)

    /** The next {@code count} pin calls with valid arguments fail with IO_ERROR and pin nothing. */
    public void failNextPins(int count) {
        if (count < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "negative pin failure count " + count);
        }
        synchronized (lock) {
            checkOpen();
            pinFailures = count;
        }
    }

    /**
     * The VMM removes guest RAM {@code [gpa, gpa + length)} (page aligned), with the unmap interlock of SPI
     * contract 2:
     *
     * <ol>
     *   <li>new pins touching the range are refused (NOT_MAPPED) from now on;
     *   <li>{@link DeviceModel#dmaUnmapped} is called on this thread, with no lock held, and RAM is still
     *       there during the call;
     *   <li>the range is gone: accesses and tracking there are NOT_MAPPED, tracking of its frames is dropped;
     *   <li>if any pin still touches the range, it is revoked (its segments become invalid), an error is
     *       logged, and this method throws {@link ErrorCode#BUSY} naming the frames left pinned.
     * </ol>
     *
     * @throws GvtException BUSY as above; INVALID_ARGUMENT for an unaligned or empty range; OUT_OF_RANGE for a
     *     range outside RAM; ILLEGAL_STATE after detach
     */
    public void removeRam(long gpa, long length) {
        checkOpen();
        long[] range = ram.frameRange(gpa, length, "remove RAM of guest " + name);
        long start = range[0];
        long end = range[1];
        synchronized (lock) {
            checkOpen();
            ram.removing.add(start, end);
        }
        try {
            device.dmaUnmapped(gpa, length);
        } finally {
            finishRemoval(gpa, length, start, end);
        }
    }

    private void finishRemoval(long gpa, long length, long start, long end) {
        List<FakePinnedPages> left = new ArrayList<>();
        TreeSet<Long> frames = new TreeSet<>();
        synchronized (lock) {
            if (closed.get()) {
                return;
            }
            ram.removed.add(start, end);
            ram.removing.remove(start, end);
            trackCounts.keySet().removeIf(gfn -> gfn >= start && gfn < end);
            for (FakePinnedPages pin : livePins) {
                if (pin.overlaps(start, end)) {
                    left.add(pin);
                }
            }
            for (Map.Entry<Long, Integer> entry : pinCounts.entrySet()) {
                if (entry.getKey() >= start && entry.getKey() < end) {
                    frames.add(entry.getKey());
                }
            }
        }
        if (left.isEmpty()) {
            log.debug("guest {}: removed RAM [0x{}, +0x{})", name, Long.toHexString(gpa), Long.toHexString(length));
            return;
        }
        // contract 2 broken: the device kept pins in the range. Revoke them so nothing can reach the removed
        // RAM any more, and fail loudly.
        for (FakePinnedPages pin : left) {
            pin.close();
        }
        String named = frames.stream().limit(16).map(gfn -> "0x" + Long.toHexString(gfn)).collect(Collectors.joining(", "))
                + (frames.size() > 16 ? ", ..." : "");
        String message = "unmap interlock of guest " + name + " (vGPU " + vgpuName + "): after dmaUnmapped(0x"
                + Long.toHexString(gpa) + ", 0x" + Long.toHexString(length) + ") " + frames.size() + " frames are still pinned by "
                + left.size() + " pins: " + named + "; the pins were revoked";
        log.error(message);
        throw new GvtException(ErrorCode.BUSY, message);
    }

    /** The VMM adds back a removed range {@code [gpa, gpa + length)}: backed again, zero-filled. */
    public void restoreRam(long gpa, long length) {
        checkOpen();
        long[] range = ram.frameRange(gpa, length, "restore RAM of guest " + name);
        synchronized (lock) {
            checkOpen();
            ram.segment().asSlice(gpa, length).fill((byte) 0);
            ram.removed.remove(range[0], range[1]);
        }
    }

    /** Makes {@code [gpa, gpa + length)} (page aligned) read-only for writes and write pins, or writable again. */
    public void setReadOnly(long gpa, long length, boolean readOnly) {
        checkOpen();
        long[] range = ram.frameRange(gpa, length, "protect RAM of guest " + name);
        synchronized (lock) {
            if (readOnly) {
                ram.readOnly.add(range[0], range[1]);
            } else {
                ram.readOnly.remove(range[0], range[1]);
            }
        }
    }

    /** Delays every MSI delivery by {@code delay} (zero: deliver at once). Signalling never waits for it. */
    public void setMsiDelay(Duration delay) {
        checkOpen();
        interrupts.setDelay(delay);
    }

    /**
     * Calls {@code listener} with each MSI's number on the guest's delivery thread (never on the signalling
     * thread); the guest-side count moves once the listener returns. A listener that blocks stalls this and
     * later deliveries, as a stalled VMM would, but never the core. Null removes it.
     */
    public void setMsiListener(LongConsumer listener) {
        checkOpen();
        interrupts.setListener(Optional.ofNullable(listener));
    }

    /** With {@code true}, MSIs are dropped and counted, as when the VMM has not configured the interrupt yet. */
    public void maskMsi(boolean masked) {
        checkOpen();
        interrupts.setMasked(masked);
    }

    /** MSIs signalled by the core since attach (delivered, pending or dropped). */
    public long msiSignalled() {
        return interrupts.signalled();
    }

    /** The pin count of frame {@code gfn} (0 when not pinned). */
    public int pinCount(long gfn) {
        synchronized (lock) {
            return pinCounts.getOrDefault(gfn, 0);
        }
    }

    /** How many frames are pinned at least once. */
    public int pinnedFrames() {
        synchronized (lock) {
            return pinCounts.size();
        }
    }

    /** The frames tracked right now, ascending. */
    public List<Long> trackedFrames() {
        return trackCounts.keySet().stream().sorted().toList();
    }

    // ---------------------------------------------------------------------------------------------
    // internals used by the services

    GuestRam ram() {
        return ram;
    }

    FakeInterrupts interrupts0() {
        return interrupts;
    }

    boolean isClosed() {
        return closed.get();
    }

    void checkOpen() {
        if (closed.get()) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "vGPU " + vgpuName + " is detached from guest " + name);
        }
    }

    PinnedPages pin(long gfn, int count, GuestPages.Access access) {
        synchronized (lock) {
            checkOpen();
            if (pinFailures > 0) {
                pinFailures--;
                throw new GvtException(ErrorCode.IO_ERROR, "injected pin failure: pin of " + count + " frames at gfn 0x"
                        + Long.toHexString(gfn) + " of guest " + name);
            }
            long end = gfn + count;
            if (gfn >= ram.frames() || end > ram.frames()) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "pin of " + count + " frames at gfn 0x" + Long.toHexString(gfn)
                        + " leaves guest RAM of 0x" + Long.toHexString(ram.frames()) + " frames of guest " + name);
            }
            long hole = ram.removed.firstIn(gfn, end);
            if (hole < 0) {
                hole = ram.removing.firstIn(gfn, end);
            }
            if (hole >= 0) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "pin of " + count + " frames at gfn 0x" + Long.toHexString(gfn)
                        + " touches frame 0x" + Long.toHexString(hole) + ", which the VMM removed from guest " + name);
            }
            if (access.writes()) {
                long locked = ram.readOnly.firstIn(gfn, end);
                if (locked >= 0) {
                    throw new GvtException(ErrorCode.PERMISSION_DENIED, "pin for " + access + " of " + count + " frames at gfn 0x"
                            + Long.toHexString(gfn) + " touches read-only frame 0x" + Long.toHexString(locked));
                }
            }
            FakePinnedPages pin = new FakePinnedPages(this, gfn, count, ram.slice(gfn, count));
            for (long frame = gfn; frame < end; frame++) {
                pinCounts.merge(frame, 1, Integer::sum);
            }
            livePins.add(pin);
            return pin;
        }
    }

    void unpinned(FakePinnedPages pin) {
        synchronized (lock) {
            if (!livePins.remove(pin)) {
                return; // dropped by detach already
            }
            for (long frame = pin.gfn(); frame < pin.gfn() + pin.count(); frame++) {
                pinCounts.computeIfPresent(frame, (k, v) -> v == 1 ? null : v - 1);
            }
        }
    }

    void track(long gfn) {
        synchronized (lock) {
            checkOpen();
            if (!ram.isBacked(gfn)) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "track of gfn 0x" + Long.toHexString(gfn) + ": not RAM of guest " + name);
            }
            trackCounts.merge(gfn, 1, Integer::sum);
        }
    }

    void untrack(long gfn) {
        synchronized (lock) {
            checkOpen();
            Integer count = trackCounts.get(gfn);
            if (count == null) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "untrack of gfn 0x" + Long.toHexString(gfn)
                        + ", which is not tracked in guest " + name);
            }
            if (count == 1) {
                trackCounts.remove(gfn);
            } else {
                trackCounts.put(gfn, count - 1);
            }
        }
    }

    boolean isTracked(long gfn) {
        return !closed.get() && trackCounts.containsKey(gfn);
    }

    @Override
    public String toString() {
        return "FakeGuest[" + name + ", vGPU " + vgpuName + ", ram 0x" + Long.toHexString(ram.size()) + (closed.get() ? ", detached]" : "]");
    }
}
