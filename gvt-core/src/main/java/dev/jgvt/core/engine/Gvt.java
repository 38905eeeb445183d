package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.ProvisionException;
import com.google.inject.Stage;
import com.google.inject.spi.Message;
import dev.jgvt.core.plugin.PluginRegistry;
import dev.jgvt.core.plugin.PluginStatus;
import dev.jgvt.core.cmd.ScanDump;
import dev.jgvt.core.exec.ExecStats;
import dev.jgvt.core.exec.Execlists;
import dev.jgvt.core.exec.GpuScheduler;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.exec.HostGmSpace;
import dev.jgvt.core.gtt.PpgttConfig;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.vgpu.HostGeometry;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.core.vgpu.VgpuManager;
import dev.jgvt.core.vgpu.VgpuState;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.PlaneInfo;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HypervisorPlugin;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine: what the CLI and embedders use. Created with {@link #start}; {@link #close} stops and
 * unloads every plugin.
 */
public final class Gvt implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gvt.class);

    private final PluginRegistry plugins;
    private final VgpuManager vgpus;
    private final Optional<HostGpu> hostGpu;
    private final PpgttConfig ppgttConfig;
    private final HostGeometry geometry;
    /** The scan dump ({@link GvtConfig#SCAN_DUMP}), or null. */
    private final ScanDump scanDump;
    private final java.util.Set<Engine> scanPpgttBatches;
    /** Created with the first attach: the engines' scheduler and the host graphics memory for shadow buffers. */
    private GpuScheduler scheduler;
    private HostGmSpace hostGm;
    /** Hypervisors opened so far, by plugin id; closed before the plugins are unloaded. */
    private final Map<String, Hypervisor> hypervisors = new LinkedHashMap<>();
    private final Map<Integer, AttachedVgpu> attached = new TreeMap<>();
    private boolean closed;

    @Inject
    Gvt(PluginRegistry plugins, VgpuManager vgpus, Optional<HostGpu> hostGpu, GvtConfig config) {
        this.plugins = requireNonNull(plugins, "plugins is null");
        this.vgpus = requireNonNull(vgpus, "vgpus is null");
        this.hostGpu = requireNonNull(hostGpu, "hostGpu is null");
        this.ppgttConfig = config.ppgtt();
        this.geometry = config.geometry();
        this.scanPpgttBatches = config.scanPpgttBatches();
        this.scanDump = config.scanDump().orElse(null);
    }

    /**
     * Starts an engine: loads and starts the plugins of {@code config.pluginsDirectory()}. Plugins that
     * fail are reported by {@link #plugins()}, they do not fail the engine.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when the plugins directory does not exist,
     *     {@link ErrorCode#INVALID_ARGUMENT} when it is not a directory
     */
    public static Gvt start(GvtConfig config) {
        return start(config, Optional.empty());
    }

    /**
     * Starts an engine that runs vGPUs on {@code hostGpu}: as {@link #start(GvtConfig)}, and vGPUs can be
     * attached to guests (their graphics memory is shadowed into the host GPU's GGTT).
     */
    public static Gvt start(GvtConfig config, HostGpu hostGpu) {
        return start(config, Optional.of(requireNonNull(hostGpu, "hostGpu is null")));
    }

    private static Gvt start(GvtConfig config, Optional<HostGpu> hostGpu) {
        requireNonNull(config, "config is null");
        try {
            return Guice.createInjector(Stage.PRODUCTION, new EngineModule(config, hostGpu)).getInstance(Gvt.class);
        } catch (CreationException e) {
            throw unwrap(e, e.getErrorMessages());
        } catch (ProvisionException e) {
            throw unwrap(e, e.getErrorMessages());
        }
    }

    /** What failed while wiring, as the typed exception it was (Guice wraps what providers throw). */
    private static GvtException unwrap(RuntimeException wiring, Collection<Message> messages) {
        List<Throwable> causes = new ArrayList<>();
        causes.add(wiring);
        messages.forEach(message -> causes.add(message.getCause()));
        for (Throwable cause : causes) {
            for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof GvtException gvt) {
                    return gvt;
                }
            }
        }
        return new GvtException(ErrorCode.INTERNAL, "the engine could not be wired: " + wiring.getMessage(), wiring);
    }

    /** Every plugin jar found, with its state, capabilities, availability or failure. */
    public List<PluginStatus> plugins() {
        return plugins.statuses();
    }

    /**
     * The started plugin with this id.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when there is none (the message says why)
     */
    public HypervisorPlugin plugin(String id) {
        return plugins.plugin(id);
    }

    /** The vGPUs of this engine: types, create, destroy. */
    public VgpuManager vgpus() {
        return vgpus;
    }

    /**
     * Attaches vGPU {@code vgpuId} to a guest through plugin {@code pluginId} (opened on first use) and
     * activates it: from now on the plugin forwards the guest's accesses to the vGPU.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} for an unknown vGPU or plugin,
     *     {@link ErrorCode#ILLEGAL_STATE} if the vGPU is attached already or the engine is closed, and
     *     whatever the plugin's {@code open} or {@code attach} throws (nothing stays attached then)
     */
    public synchronized AttachedVgpu attach(int vgpuId, String pluginId, AttachRequest.Target target) {
        requireNonNull(pluginId, "pluginId is null");
        requireNonNull(target, "target is null");
        if (closed) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "the engine is closed");
        }
        Vgpu vgpu = vgpus.get(vgpuId).orElseThrow(() -> new GvtException(ErrorCode.NOT_FOUND, "no vGPU " + vgpuId));
        HostGpu gpu = hostGpu.orElseThrow(() -> new GvtException(ErrorCode.ILLEGAL_STATE,
                "this engine has no host GPU (started without one): vGPUs cannot be attached"));
        if (attached.containsKey(vgpuId)) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "vGPU " + vgpuId + " is attached through plugin '"
                    + attached.get(vgpuId).pluginId() + "' already");
        }
        Hypervisor hypervisor = hypervisors.get(pluginId);
        if (hypervisor == null) {
            hypervisor = plugins.open(pluginId);
            hypervisors.put(pluginId, hypervisor);
        }
        return attach(vgpu, gpu, pluginId, hypervisor, target);
    }

    /** Attaches {@code vgpu} through an opened {@code hypervisor} (tests hand one in directly). */
    synchronized AttachedVgpu attach(int vgpuId, String pluginId, Hypervisor hypervisor, AttachRequest.Target target) {
        Vgpu vgpu = vgpus.get(vgpuId).orElseThrow(() -> new GvtException(ErrorCode.NOT_FOUND, "no vGPU " + vgpuId));
        HostGpu gpu = hostGpu.orElseThrow(() -> new GvtException(ErrorCode.ILLEGAL_STATE, "no host GPU"));
        return attach(vgpu, gpu, pluginId, hypervisor, target);
    }

    /**
     * Hands {@code vgpu} to the plugin and builds everything the attached vGPU needs (memory, execution) from the
     * plugin's binding, all under the vGPU's lock ({@link Vgpu#attach}): an access the plugin forwards meanwhile
     * waits and then meets the whole vGPU. On failure nothing stays attached: what was built is closed and the
     * binding is closed after the vGPU's lock was released (the plugin's threads may be waiting for it).
     */
    private AttachedVgpu attach(Vgpu vgpu, HostGpu gpu, String pluginId, Hypervisor hypervisor,
            AttachRequest.Target target) {
        int vgpuId = vgpu.id();
        if (scheduler == null) {
            hostGm = HostGmSpace.hostHighGm(gpu, geometry);
            scheduler = new GpuScheduler(gpu);
        }
        GuestBinding[] connected = new GuestBinding[1];
        VgpuWiring wiring = null;
        try {
            wiring = vgpu.attach(device -> {
                GuestBinding binding = hypervisor.attach(new AttachRequest("vgpu" + vgpuId, target), device);
                connected[0] = binding;
                return wire(vgpu, gpu, binding);
            });
            vgpu.activate();
        } catch (RuntimeException e) {
            if (wiring != null) {
                if (vgpu.state() == VgpuState.ATTACHED) {
                    vgpu.detach();
                }
                wiring.close();
            }
            if (connected[0] != null) {
                connected[0].close();
            }
            throw e;
        }
        AttachedVgpu result = new AttachedVgpu(vgpu, pluginId, wiring);
        attached.put(vgpuId, result);
        log.info("vGPU {} ({}) attached through plugin '{}' to {}", vgpuId, vgpu.type().name(), pluginId, target);
        return result;
    }

    /** The memory side, then execution, from the binding; what was built is closed again if a later part fails. */
    private VgpuWiring wire(Vgpu vgpu, HostGpu gpu, GuestBinding binding) {
        VgpuMemory memory = new VgpuMemory(vgpu, binding, gpu, ppgttConfig);
        try {
            Execlists execlists = new Execlists(vgpu, binding.memory(), memory.ggtt(), memory.pins(), memory.ppgtt(),
                    hostGm, scheduler);
            if (scanDump != null) {
                execlists.observeScans(scanDump);
            }
            execlists.scanPpgttBatches(scanPpgttBatches);
            return new VgpuWiring(binding, memory, execlists);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /** Disconnects the guest, deactivates and detaches vGPU {@code vgpuId} and closes its binding. Does nothing if it is not attached. */
    public synchronized void detach(int vgpuId) {
        AttachedVgpu attachment = attached.remove(vgpuId);
        if (attachment == null) {
            return;
        }
        Vgpu vgpu = attachment.vgpu();
        try {
            // the guest goes first: no access of it may meet a vGPU half torn down
            attachment.binding().disconnect();
            if (vgpu.state() == VgpuState.ACTIVE) {
                vgpu.deactivate();
            }
            if (vgpu.state() == VgpuState.ATTACHED) {
                vgpu.detach();
            }
        } finally {
            try {
                attachment.wiring().close();
            } finally {
                attachment.binding().close();
            }
        }
    }

    /** What the host saw of attached vGPU {@code vgpuId}; empty when it is not attached. */
    public synchronized Optional<VgpuStats> stats(int vgpuId) {
        AttachedVgpu attachment = attached.get(vgpuId);
        if (attachment == null) {
            return Optional.empty();
        }
        VgpuMemory memory = attachment.wiring().memory();
        Vgpu vgpu = attachment.vgpu();
        ExecStats exec = attachment.wiring().execlists().stats();
        VgpuStats[] result = new VgpuStats[1];
        vgpu.runLocked(() -> result[0] = new VgpuStats(vgpu.msiSignals(), memory.tracking().dispatched(),
                memory.ppgtt().traps(), memory.pins().pinnedFrames(), memory.ggtt().shadowedWrites(),
                memory.ggtt().ignoredWrites(),
                vgpu.unhandledAccesses(), vgpu.failsafe(), exec));
        return Optional.ofNullable(result[0]);
    }

    /**
     * Nanoseconds the host GPU's {@code engine} spent executing workloads of any vGPU (0 before the first attach):
     * the engine's busy time, as opposed to the scheduler's time slices, which include idle owned time.
     */
    public synchronized long engineBusyNanos(Engine engine) {
        return scheduler == null ? 0 : scheduler.busyNanos(engine);
    }

    /**
     * Where workloads of every vGPU started so far: inline on the thread that took their ELSP write, or on an
     * engine's dispatcher (all zero before the first attach).
     */
    public synchronized GpuScheduler.Starts workloadStarts() {
        return scheduler == null ? new GpuScheduler.Starts(0, 0, 0) : scheduler.starts();
    }

    /**
     * Captures what vGPU {@code vgpuId}'s primary plane shows, read through the host GGTT the vGPU's guest
     * programmed (see {@link PlaneCapture}). Empty when the vGPU is not attached, the plane is off or
     * misprogrammed, or its format is not 32-bit XRGB/XBGR. Linear surfaces only: a tiled surface is read as
     * if it were linear.
     */
    public synchronized Optional<PlaneCapture> capturePrimaryPlane(int vgpuId) {
        AttachedVgpu attachment = attached.get(vgpuId);
        if (attachment == null) {
            return Optional.empty();
        }
        VgpuMemory memory = attachment.wiring().memory();
        Vgpu vgpu = attachment.vgpu();
        Optional<PlaneInfo> queried = vgpu.queryPlane(PlaneInfo.PlaneType.PRIMARY);
        if (queried.isEmpty()) {
            return Optional.empty();
        }
        PlaneInfo plane = queried.get();
        boolean bgr = plane.drmFormat() == PlaneCapture.DRM_XBGR8888;
        if (plane.drmFormat() != PlaneCapture.DRM_XRGB8888 && !bgr) {
            return Optional.empty();
        }
        HostGpu gpu = hostGpu.orElseThrow();
        int[] pixels = new int[plane.width() * plane.height()];
        int[] unmapped = {0};
        vgpu.runLocked(() -> unmapped[0] = memory.readSurface(gpu, plane, bgr, pixels));
        return Optional.of(new PlaneCapture(plane, pixels, unmapped[0]));
    }

    /** The attachment of vGPU {@code vgpuId}, if it is attached. */
    public synchronized Optional<AttachedVgpu> attachment(int vgpuId) {
        return Optional.ofNullable(attached.get(vgpuId));
    }

    /** Detaches and destroys every vGPU, closes every opened hypervisor, then unloads the plugins. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            for (Integer id : List.copyOf(attached.keySet())) {
                try {
                    detach(id);
                } catch (RuntimeException e) {
                    log.warn("detaching vGPU {} failed: {}", id, e.toString());
                }
            }
            for (Vgpu vgpu : vgpus.list()) {
                try {
                    vgpus.destroy(vgpu.id());
                } catch (RuntimeException e) {
                    log.warn("destroying vGPU {} failed: {}", vgpu.id(), e.toString());
                }
            }
            for (Map.Entry<String, Hypervisor> entry : hypervisors.entrySet()) {
                try {
                    entry.getValue().close();
                } catch (RuntimeException e) {
                    log.warn("closing plugin '{}' failed: {}", entry.getKey(), e.toString());
                }
            }
            hypervisors.clear();
            if (scheduler != null) {
                scheduler.close();
            }
        } finally {
            try {
                if (scanDump != null) {
                    scanDump.close();
                }
            } finally {
                plugins.close();
            }
        }
    }
}
