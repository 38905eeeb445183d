package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.display.EdidRegion;
import dev.jgvt.core.display.OpRegion;
import dev.jgvt.core.display.VblankClock;
import dev.jgvt.core.display.VirtualDisplay;
import dev.jgvt.core.gtt.GgttWindow;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.irq.VirtualInterrupts;
import dev.jgvt.core.mmio.Behavior;
import dev.jgvt.core.mmio.ElspListener;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.PvInfo;
import dev.jgvt.core.mmio.PvNotificationListener;
import dev.jgvt.core.mmio.RegisterHandler;
import dev.jgvt.core.mmio.RegisterRegistry;
import dev.jgvt.core.mmio.StandardHandlers;
import dev.jgvt.core.pci.ConfigSpace;
import dev.jgvt.core.pci.PciListener;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PlaneInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vGPU: the device a plugin exposes to its VMM ({@link DeviceModel}) plus its lifecycle. Owns the
 * config space, BAR0 (register file, PVINFO, GGTT window), the interrupt model, pipe A, the OpRegion and
 * the EDID region. Every entry point takes the vGPU's lock.
 *
 * <p>Regions: config (7, 4 KiB), BAR0 (0, 16 MiB, trapped), BAR2 (2, aperture-sized; the vGPU's slice is a
 * sparse-mmap area, a trapped access there is translated through the vGPU's GGTT entry to guest memory),
 * OpRegion (9, 8 KiB read-only, Intel vendor type subtype 1), EDID (10, GFX type subtype 1).
 */
public final class Vgpu implements DeviceModel {
    private static final Logger log = LoggerFactory.getLogger(Vgpu.class);
    /** PCI device id of Skylake GT2. */
    public static final int DEVICE_ID = 0x1912;
    public static final int VENDOR_ID = 0x8086;
    public static final int OPREGION_REGION = DeviceLayout.FIRST_DEVICE_REGION;
    public static final int EDID_REGION = DeviceLayout.FIRST_DEVICE_REGION + 1;
    public static final int OPREGION_TYPE = 0x80000000 | 0x8086;
    public static final int OPREGION_SUBTYPE = 1;
    public static final int GFX_TYPE = 1;
    public static final int EDID_SUBTYPE = 1;
    /** GVT-g's engine-level full GT reset reloads the register file below this offset. */
    public static final int GT_RESET_LIMIT = 0x44200;

    private final int id;
    private final VgpuType type;
    private final VgpuPartition partition;
    private final HostGeometry geometry;
    private final ReentrantLock lock = new ReentrantLock();
    private final DeviceLayout layout;
    /** The layout's regions by index, for allocation-free access checks. */
    private final DeviceLayout.Region[] regions;
    /** Accesses per region (and their handling time when timing is on), for measurements. */
    private final AccessMeter meter;
    private final ConfigSpace config;
    private final MmioSpace mmio;
    private final GgttWindow ggtt;
    private final PvInfo pvInfo;
    private final VirtualInterrupts irq;
    private final VirtualDisplay display;
    private final EdidRegion edid;
    private final List<ResetListener> resetListeners = new CopyOnWriteArrayList<>();
    private final MemorySegment scratch = Arena.ofAuto().allocate(8, 8);
    private final Pci pci = new Pci();
    private byte[] opRegion = OpRegion.create();
    private VgpuState state = VgpuState.CREATED;
    private GuestBinding binding;
    private volatile ElspListener elsp = (engine, e0, e1) -> log.debug("ELSP on {} with no execlist emulation attached", engine);
    private volatile BiConsumer<Long, MemorySegment> trackedWrites = (gpa, bytes) -> { };
    private volatile BiConsumer<Long, Long> dmaUnmaps = (iova, length) -> { };
    private volatile Runnable quiesce = () -> { };
    private boolean failsafe;
    private volatile long msiSignals;
    private volatile long msiSuppressed;

    Vgpu(int id, VgpuType type, VgpuPartition partition, HostGeometry geometry, GgttWindow ggtt, VblankClock clock) {
        this.id = id;
        this.type = requireNonNull(type, "type is null");
        this.partition = requireNonNull(partition, "partition is null");
        this.geometry = requireNonNull(geometry, "geometry is null");
        this.ggtt = requireNonNull(ggtt, "ggtt is null");
        this.config = new ConfigSpace(DEVICE_ID, geometry.apertureSize(), partition.aperture().base(),
                partition.aperture().size(), pci);
        this.mmio = new MmioSpace(RegisterRegistry.gen9(), ggtt, "vGPU " + id);
        this.irq = new VirtualInterrupts(this::deliverMsi);
        this.pvInfo = new PvInfo(mmio, id, new PvInfo.Ballooning(partition.aperture().base(), partition.aperture().size(),
                partition.hidden().base(), partition.hidden().size(), partition.fenceCount()));
        this.display = new VirtualDisplay(mmio, irq, requireNonNull(clock, "clock is null"), this::locked);
        this.edid = new EdidRegion(type.resolution().width(), type.resolution().height());
        bindHandlers();
        setPvNotificationListener(PvNotificationListener.NONE);
        this.layout = new DeviceLayout(VENDOR_ID, DEVICE_ID, List.of(
                region(DeviceLayout.CONFIG, "config", ConfigSpace.SIZE, true, List.of(), 0, 0),
                region(DeviceLayout.BAR0, "bar0", MmioSpace.BAR0_SIZE, true, List.of(), 0, 0),
                region(DeviceLayout.BAR2, "bar2", geometry.apertureSize(), true,
                        List.of(new DeviceLayout.Area(partition.aperture().base(), partition.aperture().size())), 0, 0),
                region(OPREGION_REGION, "opregion", OpRegion.SIZE, false, List.of(), OPREGION_TYPE, OPREGION_SUBTYPE),
                region(EDID_REGION, "edid", EdidRegion.SIZE, true, List.of(), GFX_TYPE, EDID_SUBTYPE)),
                List.of(new DeviceLayout.Irq(DeviceLayout.IRQ_INTX, 1), new DeviceLayout.Irq(DeviceLayout.IRQ_MSI, 1)));
        this.regions = new DeviceLayout.Region[EDID_REGION + 1];
        this.meter = new AccessMeter(regions.length);
        for (DeviceLayout.Region r : layout.regions()) {
            regions[r.index()] = r;
        }
    }

    private static DeviceLayout.Region region(int index, String name, long size, boolean writable,
            List<DeviceLayout.Area> areas, int type, int subtype) {
        Set<DeviceLayout.Flag> flags = writable
                ? (areas.isEmpty() ? Set.of(DeviceLayout.Flag.READ, DeviceLayout.Flag.WRITE)
                        : Set.of(DeviceLayout.Flag.READ, DeviceLayout.Flag.WRITE, DeviceLayout.Flag.MMAP))
                : Set.of(DeviceLayout.Flag.READ);
        return new DeviceLayout.Region(index, name, size, flags, areas, type, subtype);
    }

    private void bindHandlers() {
        StandardHandlers.bind(mmio, partition.fenceCount(), this::engineReset, (engine, e0, e1) -> elsp.submitted(engine, e0, e1));
        mmio.bind(Behavior.INTERRUPT, new RegisterHandler() {
            @Override
            public int read(int offset) {
                return irq.read(offset);
            }

            @Override
            public void write(int offset, int value) {
                irq.write(offset, value);
            }
        });
        mmio.bind(Behavior.PVINFO, pvInfo);
        mmio.bind(Behavior.RING_MODE, new RegisterHandler() {
            @Override
            public int read(int offset) {
                return mmio.get(offset);
            }

            @Override
            public void write(int offset, int value) {
                int merged = mmio.merge(offset, value);
                mmio.set(offset, merged);
                if ((merged & Gen9Registers.RING_MODE_RUN_LIST_ENABLE) != 0 && !pvInfo.notified()) {
                    // GVT-g: a guest that enables execlists without having read PVINFO is not PV-aware
                    enterFailsafe("execlists enabled at 0x" + Integer.toHexString(offset) + " without reading PVINFO");
                }
            }
        });
        mmio.bind(Behavior.PIPECONF, display.pipeconfHandler());
        mmio.bind(Behavior.PLANE_SURFACE, display.surfaceHandler());
    }

    private void locked(Runnable task) {
        lock.lock();
        try {
            if (state != VgpuState.DESTROYED) {
                task.run();
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- identity and state

    public int id() {
        return id;
    }

    public VgpuType type() {
        return type;
    }

    public VgpuPartition partition() {
        return partition;
    }

    public VgpuState state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    /** Whether the vGPU failed (guest misbehaviour); only a device-model reset clears it. */
    public boolean failsafe() {
        lock.lock();
        try {
            return failsafe;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The BAR0 register file, for the subsystems that keep device state in it (execlist status and CSB,
     * for example). Use it only inside {@link #runLocked}.
     */
    public MmioSpace mmio() {
        return mmio;
    }

    /** Runs {@code task} under the vGPU's lock (the lock every trap takes); does nothing once destroyed. */
    public void runLocked(Runnable task) {
        locked(requireNonNull(task, "task is null"));
    }

    /** The register registry of this vGPU's generation (for command-access policy queries). */
    public RegisterRegistry registers() {
        return mmio.registry();
    }

    // ---- lifecycle

    /** Attaches the vGPU to a guest through a plugin's binding. CREATED → ATTACHED. */
    public void attach(GuestBinding guestBinding) {
        requireNonNull(guestBinding, "binding is null");
        lock.lock();
        try {
            expect("attach", VgpuState.CREATED);
            binding = guestBinding;
            state = VgpuState.ATTACHED;
        } finally {
            lock.unlock();
        }
    }

    /** Drops the binding (the caller closes it). ATTACHED → CREATED. */
    public void detach() {
        lock.lock();
        try {
            expect("detach", VgpuState.ATTACHED);
            binding = null;
            state = VgpuState.CREATED;
        } finally {
            lock.unlock();
        }
    }

    /** ATTACHED → ACTIVE: the guest runs; its work is scheduled. */
    public void activate() {
        lock.lock();
        try {
            expect("activate", VgpuState.ATTACHED);
            state = VgpuState.ACTIVE;
        } finally {
            lock.unlock();
        }
    }

    /** ACTIVE → ATTACHED: the guest's work is no longer scheduled. */
    public void deactivate() {
        lock.lock();
        try {
            expect("deactivate", VgpuState.ACTIVE);
            state = VgpuState.ATTACHED;
        } finally {
            lock.unlock();
        }
    }

    /** Called by the manager: CREATED or ATTACHED → DESTROYED. */
    void destroy() {
        lock.lock();
        try {
            expect("destroy", VgpuState.CREATED, VgpuState.ATTACHED);
            display.stop();
            binding = null;
            state = VgpuState.DESTROYED;
        } finally {
            lock.unlock();
        }
    }

    private void expect(String operation, VgpuState... allowed) {
        for (VgpuState s : allowed) {
            if (state == s) {
                return;
            }
        }
        throw new GvtException(ErrorCode.ILLEGAL_STATE, "cannot " + operation + " vGPU " + id + ": it is " + state
                + " (allowed from " + List.of(allowed) + ")");
    }

    private void expectAlive() {
        if (state == VgpuState.DESTROYED) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "vGPU " + id + " is destroyed");
        }
    }

    // ---- hooks for the other subsystems

    public void addResetListener(ResetListener listener) {
        resetListeners.add(requireNonNull(listener, "listener is null"));
    }

    /** Removes a listener added with {@link #addResetListener} (a subsystem detaching from this vGPU). */
    public void removeResetListener(ResetListener listener) {
        resetListeners.remove(listener);
    }

    /** Where PVINFO guest → host notifications go. */
    public void setPvNotificationListener(PvNotificationListener listener) {
        requireNonNull(listener, "listener is null");
        PvNotificationListener failsafeOnBalloonFailure = new PvNotificationListener() {
            @Override
            public void ppgtt(boolean created, int levels, long[] pdps) {
                listener.ppgtt(created, levels, pdps);
            }

            @Override
            public void execlistContext(boolean created, long descriptor) {
                listener.execlistContext(created, descriptor);
            }

            @Override
            public void displayReady(int value) {
                listener.displayReady(value);
            }

            @Override
            public void ballooningFailed(int value) {
                enterFailsafe("the guest could not balloon (PVINFO rsv5 = " + value + ")");
                listener.ballooningFailed(value);
            }

            @Override
            public void unknownNotification(int code) {
                listener.unknownNotification(code);
            }
        };
        lock.lock();
        try {
            pvInfo.setListener(failsafeOnBalloonFailure);
        } finally {
            lock.unlock();
        }
    }

    /** Where complete ELSP submissions go (the execlist emulation). */
    public void setElspListener(ElspListener listener) {
        this.elsp = requireNonNull(listener, "listener is null");
    }

    /** Where tracked guest writes go (the GTT's page-table shadowing). */
    public void setTrackedWriteHandler(BiConsumer<Long, MemorySegment> handler) {
        this.trackedWrites = requireNonNull(handler, "handler is null");
    }

    /**
     * Called under the lock before a reset or a DMA unmap changes guest memory or shadows: the submission layer
     * waits there until no workload of this vGPU is executing on a host engine, so no engine walks tables or
     * pages that are about to go away.
     */
    public void setQuiesceHook(Runnable hook) {
        this.quiesce = requireNonNull(hook, "hook is null");
    }

    /** Where DMA-unmap notifications go (whoever holds pins: the GTT). */
    public void setDmaUnmapHandler(BiConsumer<Long, Long> handler) {
        this.dmaUnmaps = requireNonNull(handler, "handler is null");
    }

    /** Raises a virtual interrupt event (context switch, user interrupt, vblank...). */
    public void raise(IrqEvent event) {
        requireNonNull(event, "event is null");
        lock.lock();
        try {
            if (state != VgpuState.DESTROYED) {
                irq.raise(event);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Runs one virtual vblank now (tests and the service thread). */
    public void vblank() {
        locked(display::vblank);
    }

    /** Marks the vGPU failed: the guest sees a hung device until a device-model reset. */
    public void enterFailsafe(String reason) {
        lock.lock();
        try {
            if (!failsafe) {
                failsafe = true;
                log.warn("vGPU {} enters failsafe: {}", id, reason);
            }
        } finally {
            lock.unlock();
        }
    }

    private void deliverMsi() {
        GuestBinding b = binding;
        if (b != null && config.msiEnabled()) {
            msiSignals++;
            b.interrupts().signalMsi();
        } else {
            msiSuppressed++;
        }
    }

    /** MSIs signalled to the binding. */
    public long msiSignals() {
        return msiSignals;
    }

    /** Interrupts that were pending and enabled but not signalled (MSI disabled or no binding). */
    public long msiSuppressed() {
        return msiSuppressed;
    }

    /** The access meter of this vGPU (counts per region; handling-time sums when turned on). */
    public AccessMeter accessMeter() {
        return meter;
    }

    /** A consistent snapshot of the access meter's counters. */
    public AccessCounts accessCounts() {
        lock.lock();
        try {
            return meter.snapshot();
        } finally {
            lock.unlock();
        }
    }

    /** Accesses to BAR0 that nothing handled (read 0, write dropped). */
    public long unhandledAccesses() {
        return mmio.unhandledAccesses();
    }

    /** Whether the guest has read PVINFO since power-on. */
    public boolean pvNotified() {
        return pvInfo.notified();
    }

    /** Whether BAR0 is currently decoded (COMMAND.MEMORY set) and where. */
    public Optional<Long> bar0TrapBase() {
        lock.lock();
        try {
            return pci.trapped ? Optional.of(pci.trapBase) : Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    /** Where the aperture slice is mapped in guest physical space, if it is. */
    public Optional<Long> apertureMapping() {
        lock.lock();
        try {
            return pci.mapped ? Optional.of(pci.mapGpa) : Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    /** The guest physical address the guest gave for its OpRegion copy (ASLS), 0 if never written. */
    public long opRegionGpa() {
        lock.lock();
        try {
            return pci.asls;
        } finally {
            lock.unlock();
        }
    }

    /** The EDID the virtual monitor presents. */
    public byte[] edid() {
        lock.lock();
        try {
            return edid.edid();
        } finally {
            lock.unlock();
        }
    }

    /** The vblank timer runs (pipe A enabled). */
    public boolean vblankRunning() {
        lock.lock();
        try {
            return display.vblankRunning();
        } finally {
            lock.unlock();
        }
    }

    /** The guest's value of fence {@code index} (64 bits), or empty for an index the vGPU does not own. */
    public Optional<Long> fence(int index) {
        if (index < 0 || index >= partition.fenceCount()) {
            return Optional.empty();
        }
        lock.lock();
        try {
            int at = Gen9Registers.FENCE_BASE + 8 * index;
            return Optional.of((mmio.get(at) & 0xFFFFFFFFL) | ((long) mmio.get(at + 4) << 32));
        } finally {
            lock.unlock();
        }
    }

    // ---- DeviceModel

    @Override
    public DeviceLayout layout() {
        return layout;
    }

    @Override
    public long read(int region, long offset, int size) {
        DeviceLayout.Region r = check(region, offset, size);
        long started = meter.start();
        lock.lock();
        try {
            expectAlive();
            return switch (r.index()) {
                case DeviceLayout.CONFIG -> config.read((int) offset, size);
                case DeviceLayout.BAR0 -> failsafe && offset < MmioSpace.REGISTER_FILE_SIZE ? 0 : mmio.read(offset, size);
                case DeviceLayout.BAR2 -> apertureRead(offset, size);
                case OPREGION_REGION -> littleEndian(opRegion, (int) offset, size);
                default -> edid.read(offset, size);
            };
        } finally {
            meter.count(r.index(), false, started);
            lock.unlock();
        }
    }

    @Override
    public void write(int region, long offset, int size, long value) {
        DeviceLayout.Region r = check(region, offset, size);
        if (!r.writable()) {
            throw new GvtException(ErrorCode.PERMISSION_DENIED, "region " + r.name() + " (" + region + ") is read-only");
        }
        long started = meter.start();
        lock.lock();
        try {
            expectAlive();
            switch (r.index()) {
                case DeviceLayout.CONFIG -> config.write((int) offset, size, value);
                case DeviceLayout.BAR0 -> {
                    if (!failsafe) {
                        mmio.write(offset, size, value);
                    }
                }
                case DeviceLayout.BAR2 -> apertureWrite(offset, size, value);
                default -> edid.write(offset, size, value);
            }
        } finally {
            meter.count(r.index(), true, started);
            lock.unlock();
        }
    }

    private DeviceLayout.Region check(int region, long offset, int size) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "access size " + size + " is not 1, 2, 4 or 8");
        }
        DeviceLayout.Region r = region >= 0 && region < regions.length ? regions[region] : null;
        if (r == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "vGPU " + id + " has no region " + region);
        }
        if (offset < 0 || offset > r.size() - size) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "access of " + size + " bytes at 0x" + Long.toHexString(offset)
                    + " is outside region " + r.name() + " of 0x" + Long.toHexString(r.size()) + " bytes");
        }
        return r;
    }

    private static long littleEndian(byte[] bytes, int offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (bytes[offset + i] & 0xFFL) << (8 * i);
        }
        return value;
    }

    /**
     * The guest physical address behind aperture offset {@code offset} (the aperture maps GM from 0), through the
     * vGPU's GGTT, or -1 outside the vGPU's slice, across a page or through a not-present entry.
     */
    private long apertureGpa(long offset, int size) {
        if (!partition.aperture().contains(offset, size) || ((offset ^ (offset + size - 1)) & ~0xFFFL) != 0) {
            return -1;
        }
        return ggtt.gmaToGpa(offset);
    }

    private long apertureRead(long offset, int size) {
        long gpa = apertureGpa(offset, size);
        if (gpa < 0 || binding == null) {
            mmio.logDropped(MmioSpace.BAR0_SIZE + offset, "aperture read outside the vGPU's mapped slice");
            return 0;
        }
        try {
            MemorySegment buf = scratch.asSlice(0, size);
            binding.memory().read(gpa, buf);
            return switch (size) {
                case 1 -> buf.get(ValueLayout.JAVA_BYTE, 0) & 0xFFL;
                case 2 -> buf.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0) & 0xFFFFL;
                case 4 -> buf.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0) & 0xFFFFFFFFL;
                default -> buf.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            };
        } catch (GvtException e) {
            log.debug("vGPU {}: aperture read at 0x{} failed: {}", id, Long.toHexString(offset), e.getMessage());
            return 0;
        }
    }

    private void apertureWrite(long offset, int size, long value) {
        long gpa = apertureGpa(offset, size);
        if (gpa < 0 || binding == null) {
            mmio.logDropped(MmioSpace.BAR0_SIZE + offset, "aperture write outside the vGPU's mapped slice");
            return;
        }
        try {
            MemorySegment buf = scratch.asSlice(0, size);
            for (int i = 0; i < size; i++) {
                buf.set(ValueLayout.JAVA_BYTE, i, (byte) (value >>> (8 * i)));
            }
            binding.memory().write(gpa, buf);
        } catch (GvtException e) {
            log.debug("vGPU {}: aperture write at 0x{} failed: {}", id, Long.toHexString(offset), e.getMessage());
        }
    }

    @Override
    public void trackedWrite(long gpa, MemorySegment bytes) {
        lock.lock();
        try {
            expectAlive();
            trackedWrites.accept(gpa, bytes);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void dmaUnmapped(long iova, long length) {
        if (length < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "negative unmap length " + length);
        }
        lock.lock();
        try {
            quiesce.run();
            dmaUnmaps.accept(iova, length);
        } finally {
            lock.unlock();
        }
    }

    /** Device-model-level reset: config space, register file, PVINFO, interrupts, display, OpRegion, EDID. */
    @Override
    public void reset() {
        lock.lock();
        try {
            expectAlive();
            quiesce.run();
            display.stop();
            config.reset();
            pci.clear();
            mmio.resetRange(0, MmioSpace.REGISTER_FILE_SIZE);
            bindHandlers();
            pvInfo.reset();
            irq.reset();
            opRegion = OpRegion.create();
            edid.reset();
            if (ggtt instanceof dev.jgvt.core.mmio.UnshadowedGgttWindow plain) {
                plain.clear();
            }
            failsafe = false;
            for (ResetListener listener : resetListeners) {
                listener.deviceReset();
            }
        } finally {
            lock.unlock();
        }
    }

    /** GDRST from the guest (under the lock already: called from the MMIO write). */
    private void engineReset(int domainMask) {
        quiesce.run();
        if ((domainMask & Gen9Registers.GDRST_FULL) != 0) {
            mmio.resetRange(0, GT_RESET_LIMIT);
        } else {
            for (Engine engine : Engine.GT2) {
                if ((domainMask & engine.resetDomain()) != 0) {
                    mmio.resetRange(engine.mmioBase(), engine.mmioBase() + 0x800);
                }
            }
        }
        StandardHandlers.bind(mmio, partition.fenceCount(), this::engineReset, (engine, e0, e1) -> elsp.submitted(engine, e0, e1));
        for (ResetListener listener : resetListeners) {
            listener.engineReset(domainMask);
        }
    }

    @Override
    public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type) {
        requireNonNull(type, "type is null");
        lock.lock();
        try {
            expectAlive();
            return display.queryPlane(type, partition::containsGm, pvInfo.cursorHotX(), pvInfo.cursorHotY());
        } catch (RuntimeException e) {
            log.debug("vGPU {}: plane query failed: {}", id, e.toString());
            return Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "vGPU " + id + " (" + type.name() + ", " + state + ")";
    }

    /** The config-space consequences, recorded for the plugin wiring and for diagnostics. */
    private final class Pci implements PciListener {
        boolean trapped;
        long trapBase;
        boolean mapped;
        long mapGpa;
        long asls;

        void clear() {
            trapped = false;
            mapped = false;
            trapBase = 0;
            mapGpa = 0;
            asls = 0;
        }

        @Override
        public void bar0Trap(long base, long size, boolean on) {
            trapped = on;
            trapBase = base;
            log.debug("vGPU {}: BAR0 {} at 0x{}", id, on ? "trapped" : "untrapped", Long.toHexString(base));
        }

        @Override
        public void apertureMap(long gpa, long size, boolean on) {
            mapped = on;
            mapGpa = gpa;
        }

        @Override
        public void opRegionAddress(long gpa) {
            asls = gpa;
        }

        @Override
        public void swsci(int value) {
            if ((value & (1 << 15)) == 0) {
                log.debug("vGPU {}: SWSCI SMI request 0x{} refused", id, Integer.toHexString(value));
                return;
            }
            GuestBinding b = binding;
            if (b == null || asls == 0) {
                log.debug("vGPU {}: SWSCI without an OpRegion address or a guest", id);
                return;
            }
            try {
                long scic = asls + OpRegion.SCIC;
                long words = b.memory().readLong(scic);
                int[] answer = OpRegion.answerSwsci((int) words, (int) (words >>> 32));
                b.memory().writeLong(scic, (answer[0] & 0xFFFFFFFFL) | ((long) answer[1] << 32));
            } catch (GvtException e) {
                log.debug("vGPU {}: SWSCI could not reach the guest OpRegion: {}", id, e.getMessage());
            }
            config.completeSwsci();
        }
    }
}
