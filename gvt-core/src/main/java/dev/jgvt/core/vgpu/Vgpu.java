package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.display.DpMonitor;
import dev.jgvt.core.display.EdidRegion;
import dev.jgvt.core.display.OptionRom;
import dev.jgvt.core.display.Vbt;
import dev.jgvt.core.display.VblankClock;
import dev.jgvt.core.display.VirtualDisplay;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.core.irq.IrqEvent;
import dev.jgvt.core.irq.VirtualInterrupts;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.PvInfo;
import dev.jgvt.core.mmio.RegisterRegistry;
import dev.jgvt.core.pci.ConfigSpace;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PlaneInfo;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vGPU: the device a plugin exposes to its VMM ({@link DeviceModel}), its lifecycle, resets and failsafe.
 * Every entry point takes the vGPU's lock, then dispatches through the {@link RegionTable} (config space, BAR0 with
 * the register file and the GGTT window, the {@link ApertureWindow}, the {@link OpRegionWindow}, EDID). What it is
 * connected to while attached — binding, GGTT shadow, tracking, execution — is one {@link VgpuAttachment},
 * installed whole by {@link #attach} and replaced whole by {@link #detach}.
 */
public final class Vgpu implements DeviceModel {
    private static final Logger log = LoggerFactory.getLogger(Vgpu.class);
    /** PCI device id of Skylake GT2. */
    public static final int DEVICE_ID = 0x1912;
    public static final int VENDOR_ID = 0x8086;
    public static final int OPREGION_REGION = DeviceLayout.FIRST_DEVICE_REGION;
    public static final int EDID_REGION = DeviceLayout.FIRST_DEVICE_REGION + 1;
    /** VFIO region index of the PCI expansion ROM. */
    public static final int ROM_REGION = 6;

    private final int id;
    private final VgpuType type;
    private final VgpuPartition partition;
    private final HostGeometry geometry;
    private final ReentrantLock lock = new ReentrantLock();
    private final RegionTable regions;
    /** Accesses per region (and their handling time when timing is on), for measurements. */
    private final AccessMeter meter;
    private final ConfigSpace config;
    private final MmioSpace mmio;
    private final PvInfo pvInfo;
    private final VirtualInterrupts irq;
    private final VirtualDisplay display;
    private final EdidRegion edid;
    private final DpMonitor monitor;
    private final OpRegionWindow opRegion;
    private final PciState pci;
    /** State and what the vGPU is connected to; the attachment is replaced whole, under the lock. */
    private final VgpuLifecycle life;
    private boolean failsafe;
    private final MsiLine msi;

    Vgpu(int id, VgpuType type, VgpuPartition partition, HostGeometry geometry, VblankClock clock) {
        this.id = id;
        this.type = requireNonNull(type, "type is null");
        this.partition = requireNonNull(partition, "partition is null");
        this.geometry = requireNonNull(geometry, "geometry is null");
        this.life = new VgpuLifecycle(id);
        this.opRegion = new OpRegionWindow(id);
        this.pci = new PciState(id, this::swsci, this::completeSwsci);
        this.config = new ConfigSpace(DEVICE_ID, geometry.apertureSize(), partition.aperture().base(),
                partition.aperture().size(), pci);
        this.mmio = new MmioSpace(RegisterRegistry.gen9(), new AttachedGgtt(this::attachment), "vGPU " + id);
        this.msi = new MsiLine(config, this::attachment);
        this.irq = new VirtualInterrupts(msi::run);
        this.pvInfo = new PvInfo(mmio, id, new PvInfo.Ballooning(partition.aperture().base(), partition.aperture().size(),
                partition.hidden().base(), partition.hidden().size(), partition.fenceCount()));
        this.display = new VirtualDisplay(mmio, irq, requireNonNull(clock, "clock is null"), this::locked);
        this.edid = new EdidRegion(type.resolution().width(), type.resolution().height());
        this.monitor = DpMonitor.forResolution(type.resolution().width(), type.resolution().height());
        bindHandlers();
        pvInfo.setListener(new PvForwarder(this::attachment, this::enterFailsafe));
        this.meter = new AccessMeter(EDID_REGION + 1);
        this.regions = RegionTable.gen9(id, geometry.apertureSize(), partition.aperture(), config,
                new Bar0Region(mmio, this::failsafeLocked), new ApertureWindow(id, partition.aperture(), partition.fenceCount(), mmio,
                this::attachment), opRegion, edid, OptionRom.build(VENDOR_ID, DEVICE_ID, Vbt.build()));
    }

    private void bindHandlers() {
        Bar0Handlers.bind(mmio, partition.fenceCount(), this::engineReset,
                (engine, e0, e1) -> life.attachment().submitted(engine, e0, e1), irq, pvInfo, display, monitor,
                this::enterFailsafe);
    }

    private VgpuAttachment attachment() {
        return life.attachment();
    }

    private boolean failsafeLocked() {
        return failsafe;
    }

    private void locked(Runnable task) {
        lock.lock();
        try {
            if (!life.destroyed()) {
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
            return life.state();
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

    /**
     * Attaches the vGPU to a guest in one step: CREATED → ATTACHED. {@code connect} hands this device to a plugin
     * and builds, from the plugin's binding, everything the attached vGPU needs; its result is installed at once.
     * All of it runs under the vGPU's lock, which every access takes: an access the plugin forwards while
     * {@code connect} runs waits and then meets the whole attachment, never a half-wired vGPU. {@code connect}
     * must therefore not wait for a guest access. If it throws, nothing is installed and the vGPU stays CREATED.
     */
    public <A extends VgpuAttachment> A attach(Function<DeviceModel, A> connect) {
        requireNonNull(connect, "connect is null");
        lock.lock();
        try {
            life.expect("attach", VgpuState.CREATED);
            A wired = requireNonNull(connect.apply(this), "connect returned null");
            life.attached(wired);
            return wired;
        } finally {
            lock.unlock();
        }
    }

    /** Replaces the attachment with {@link VgpuAttachment#DETACHED} (the caller closes the old one). ATTACHED → CREATED. */
    public void detach() {
        underLock(life::detach);
    }

    /** ATTACHED → ACTIVE: the guest runs; its work is scheduled. */
    public void activate() {
        underLock(life::activate);
    }

    /** ACTIVE → ATTACHED: the guest's work is no longer scheduled. */
    public void deactivate() {
        underLock(life::deactivate);
    }

    /** Called by the manager: CREATED or ATTACHED → DESTROYED. */
    void destroy() {
        underLock(() -> {
            life.expect("destroy", VgpuState.CREATED, VgpuState.ATTACHED);
            display.stop();
            life.destroy();
        });
    }

    private void underLock(Runnable task) {
        lock.lock();
        try {
            task.run();
        } finally {
            lock.unlock();
        }
    }

    private <T> T locked(Supplier<T> query) {
        lock.lock();
        try {
            return query.get();
        } finally {
            lock.unlock();
        }
    }

    // ---- events

    /** Raises a virtual interrupt event (context switch, user interrupt, vblank...). */
    public void raise(IrqEvent event) {
        requireNonNull(event, "event is null");
        lock.lock();
        try {
            if (!life.destroyed()) {
                irq.raise(event);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Runs one virtual vblank now (tests and the service thread). */
    public void vblank() {
        locked(() -> display.vblank());
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

    private boolean swsci(int value) {
        return opRegion.swsci(value, pci.asls, life.attachment().binding());
    }

    private void completeSwsci() {
        config.completeSwsci();
    }

    /** MSIs signalled to the binding. */
    public long msiSignals() {
        return msi.signals();
    }

    /** Interrupts that were pending and enabled but not signalled (MSI disabled or no binding). */
    public long msiSuppressed() {
        return msi.suppressed();
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

    /** {@link #unhandledAccesses()} per BAR0 offset, in offset order (a snapshot taken under the lock). */
    public java.util.Map<Long, Long> unhandledByOffset() {
        lock.lock();
        try {
            return mmio.unhandledByOffset();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the guest has read PVINFO since power-on. */
    public boolean pvNotified() {
        return pvInfo.notified();
    }

    /** Whether BAR0 is currently decoded (COMMAND.MEMORY set) and where. */
    public Optional<Long> bar0TrapBase() {
        return locked(() -> pci.trapped ? Optional.of(pci.trapBase) : Optional.empty());
    }

    /** Where the aperture slice is mapped in guest physical space, if it is. */
    public Optional<Long> apertureMapping() {
        return locked(() -> pci.mapped ? Optional.of(pci.mapGpa) : Optional.empty());
    }

    /** The guest physical address the guest gave for its OpRegion copy (ASLS), 0 if never written. */
    public long opRegionGpa() {
        return locked(() -> pci.asls);
    }

    /** The EDID the virtual monitor presents. */
    public byte[] edid() {
        return locked(() -> edid.edid());
    }

    /** The vblank timer runs (pipe A enabled). */
    public boolean vblankRunning() {
        return locked(() -> display.vblankRunning());
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
        return regions.layout();
    }

    @Override
    public long read(int region, long offset, int size) {
        DeviceRegion r = regions.forRead(region, offset, size);
        long started = meter.start();
        lock.lock();
        try {
            life.expectAlive();
            return r.read(offset, size);
        } finally {
            meter.count(region, false, started);
            lock.unlock();
        }
    }

    @Override
    public void write(int region, long offset, int size, long value) {
        DeviceRegion r = regions.forWrite(region, offset, size);
        long started = meter.start();
        VgpuAttachment wrote = null;
        lock.lock();
        try {
            life.expectAlive();
            wrote = life.attachment();
            r.write(offset, size, value);
        } finally {
            meter.count(region, true, started);
            lock.unlock();
            if (wrote != null) {
                wrote.afterWrite(); // an ELSP write's inline workload runs here, without the lock (ADR 0015)
            }
        }
    }

    @Override
    public void trackedWrite(long gpa, MemorySegment bytes) {
        lock.lock();
        try {
            life.expectAlive();
            life.attachment().trackedWrite(gpa, bytes);
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
            VgpuAttachment a = life.attachment();
            a.quiesce();
            a.dmaUnmapped(iova, length);
        } finally {
            lock.unlock();
        }
    }

    /** Device-model-level reset: config space, register file, PVINFO, interrupts, display, monitor, OpRegion, EDID. */
    @Override
    public void reset() {
        lock.lock();
        try {
            life.expectAlive();
            VgpuAttachment a = life.attachment();
            a.quiesce();
            display.stop();
            monitor.reset();
            config.reset();
            pci.clear();
            mmio.resetRange(0, MmioSpace.REGISTER_FILE_SIZE);
            bindHandlers();
            pvInfo.reset();
            irq.reset();
            opRegion.reset();
            edid.reset();
            failsafe = false;
            a.deviceReset();
        } finally {
            lock.unlock();
        }
    }

    /** GDRST from the guest (under the lock already: called from the MMIO write). */
    private void engineReset(int domainMask) {
        VgpuAttachment a = life.attachment();
        a.quiesce();
        Bar0Handlers.resetEngines(mmio, domainMask);
        bindHandlers();
        a.engineReset(domainMask);
    }

    @Override
    public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type) {
        requireNonNull(type, "type is null");
        lock.lock();
        try {
            life.expectAlive();
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
        return "vGPU " + id + " (" + type.name() + ", " + life.state() + ")";
    }
}
