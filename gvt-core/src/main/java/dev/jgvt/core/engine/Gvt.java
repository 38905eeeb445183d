package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.ProvisionException;
import com.google.inject.Stage;
import com.google.inject.spi.Message;
import dev.jgvt.core.plugin.PluginRegistry;
import dev.jgvt.core.plugin.PluginStatus;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.core.vgpu.VgpuManager;
import dev.jgvt.core.vgpu.VgpuState;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HypervisorPlugin;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    /** Hypervisors opened so far, by plugin id; closed before the plugins are unloaded. */
    private final Map<String, Hypervisor> hypervisors = new LinkedHashMap<>();
    private final Map<Integer, AttachedVgpu> attached = new TreeMap<>();
    private boolean closed;

    @Inject
    Gvt(PluginRegistry plugins, VgpuManager vgpus) {
        this.plugins = requireNonNull(plugins, "plugins is null");
        this.vgpus = requireNonNull(vgpus, "vgpus is null");
    }

    /**
     * Starts an engine: loads and starts the plugins of {@code config.pluginsDirectory()}. Plugins that
     * fail are reported by {@link #plugins()}, they do not fail the engine.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when the plugins directory does not exist,
     *     {@link ErrorCode#INVALID_ARGUMENT} when it is not a directory
     */
    public static Gvt start(GvtConfig config) {
        requireNonNull(config, "config is null");
        try {
            return Guice.createInjector(Stage.PRODUCTION, new EngineModule(config)).getInstance(Gvt.class);
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
        if (attached.containsKey(vgpuId)) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "vGPU " + vgpuId + " is attached through plugin '"
                    + attached.get(vgpuId).pluginId() + "' already");
        }
        Hypervisor hypervisor = hypervisors.get(pluginId);
        if (hypervisor == null) {
            hypervisor = plugins.open(pluginId);
            hypervisors.put(pluginId, hypervisor);
        }
        GuestBinding binding = hypervisor.attach(new AttachRequest("vgpu" + vgpuId, target), vgpu);
        try {
            vgpu.attach(binding);
            vgpu.activate();
        } catch (RuntimeException e) {
            if (vgpu.state() == VgpuState.ATTACHED) {
                vgpu.detach();
            }
            binding.close();
            throw e;
        }
        AttachedVgpu result = new AttachedVgpu(vgpu, pluginId, binding);
        attached.put(vgpuId, result);
        log.info("vGPU {} ({}) attached through plugin '{}' to {}", vgpuId, vgpu.type().name(), pluginId, target);
        return result;
    }

    /** Deactivates and detaches vGPU {@code vgpuId} and closes its binding. Does nothing if it is not attached. */
    public synchronized void detach(int vgpuId) {
        AttachedVgpu attachment = attached.remove(vgpuId);
        if (attachment == null) {
            return;
        }
        Vgpu vgpu = attachment.vgpu();
        try {
            if (vgpu.state() == VgpuState.ACTIVE) {
                vgpu.deactivate();
            }
            if (vgpu.state() == VgpuState.ATTACHED) {
                vgpu.detach();
            }
        } finally {
            attachment.binding().close();
        }
    }

    /** The attachment of vGPU {@code vgpuId}, if it is attached. */
    public synchronized java.util.Optional<AttachedVgpu> attachment(int vgpuId) {
        return java.util.Optional.ofNullable(attached.get(vgpuId));
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
        } finally {
            plugins.close();
        }
    }
}
