package dev.jgvt.cli.daemon;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.VgpuStats;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.vgpu.AccessCounts;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.core.vgpu.VgpuManager;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-GPU service's state: one engine on one GPU, the persistent definitions, and the started vGPUs, each
 * served to its own VMM through the hypervisor plugin on {@code <runtime-dir>/<uuid>.sock} and, when enabled, shown
 * over VNC. The engine's scheduler time-slices the GPU between the started vGPUs. Resources are taken when a vGPU
 * starts and returned when it stops (GVT-g's arithmetic: available instances count what is running). All
 * operations are serialised on this object.
 */
public final class VgpuService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VgpuService.class);

    /** Where and how the service runs. */
    public record Settings(Path runtimeDir, Path configDir, String hypervisor, Optional<Integer> vncBasePort,
            Optional<String> vncPassword) {
        public Settings {
            requireNonNull(runtimeDir, "runtimeDir is null");
            requireNonNull(configDir, "configDir is null");
            requireNonNull(hypervisor, "hypervisor is null");
            requireNonNull(vncBasePort, "vncBasePort is null");
            requireNonNull(vncPassword, "vncPassword is null");
        }
    }

    /** A started vGPU: its UUID, the engine's vGPU id, its type, its vfio-user socket and VNC port. */
    public record Started(UUID uuid, int vgpuId, String type, Path socket, Optional<Integer> vncPort) {}

    /** One row of {@code gvt list}. */
    public record Entry(UUID uuid, String type, boolean auto, boolean defined, boolean active, boolean connected,
            Optional<Path> socket, Optional<Integer> vncPort) {}

    private record Live(Started started, AttachedVgpu attached, Optional<VncServer> vnc) {}

    private final Gvt gvt;
    private final Settings settings;
    private final DefinitionStore store;
    private final Access access;
    private final Map<UUID, Live> live = new TreeMap<>();
    private boolean closed;

    VgpuService(Gvt gvt, Settings settings, Access access) {
        this.gvt = requireNonNull(gvt, "gvt is null");
        this.settings = requireNonNull(settings, "settings is null");
        this.access = requireNonNull(access, "access is null");
        this.store = new DefinitionStore(settings.configDir());
        store.create();
    }

    public synchronized List<VgpuManager.TypeAvailability> types() {
        return gvt.vgpus().types();
    }

    private void checkType(String type) {
        if (types().stream().noneMatch(t -> t.type().name().equals(type))) {
            throw new GvtException(ErrorCode.NOT_FOUND, "no vGPU type " + type + " on this GPU (offered: "
                    + types().stream().map(t -> t.type().name()).toList() + ")");
        }
    }

    /** {@code gvt define}: a new persistent definition. */
    public synchronized Definition define(UUID uuid, String type, boolean auto) {
        checkType(type);
        if (store.find(uuid).isPresent()) {
            throw new GvtException(ErrorCode.ALREADY_EXISTS, "vGPU " + uuid + " is defined already");
        }
        Definition definition = new Definition(uuid, type, auto);
        store.write(definition);
        return definition;
    }

    /** {@code gvt undefine}: forgets a definition; a started vGPU keeps running (as mdevctl leaves the device). */
    public synchronized void undefine(UUID uuid) {
        if (!store.delete(uuid)) {
            throw new GvtException(ErrorCode.NOT_FOUND, "no vGPU defined with UUID " + uuid);
        }
    }

    /** {@code gvt modify}: changes a definition; a running vGPU sees the change at its next start. */
    public synchronized Definition modify(UUID uuid, Optional<String> type, Optional<Boolean> auto) {
        Definition old = store.find(uuid).orElseThrow(() -> new GvtException(ErrorCode.NOT_FOUND, "no vGPU defined with UUID " + uuid));
        type.ifPresent(this::checkType);
        Definition changed = new Definition(uuid, type.orElse(old.type()), auto.orElse(old.auto()));
        store.write(changed);
        return changed;
    }

    /**
     * {@code gvt start}: creates the vGPU from its definition (or, with a type and no definition, a transient one),
     * attaches it through the plugin on {@code <runtime-dir>/<uuid>.sock} and starts its VNC display.
     */
    public synchronized Started start(UUID uuid, Optional<String> transientType) {
        if (closed) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "the service is stopping");
        }
        if (live.containsKey(uuid)) {
            throw new GvtException(ErrorCode.ALREADY_EXISTS, "vGPU " + uuid + " is started already");
        }
        Optional<Definition> definition = store.find(uuid);
        String type;
        if (definition.isPresent()) {
            type = definition.get().type();
            if (transientType.isPresent() && !transientType.get().equals(type)) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "vGPU " + uuid + " is defined with type " + type
                        + ", not " + transientType.get());
            }
        } else {
            type = transientType.orElseThrow(() -> new GvtException(ErrorCode.NOT_FOUND, "no vGPU defined with UUID " + uuid
                    + " (define it, or start it with --type)"));
        }
        checkType(type);
        Vgpu vgpu;
        try {
            vgpu = gvt.vgpus().create(type);
        } catch (GvtException e) {
            if (e.code() == ErrorCode.NO_SPACE) {
                throw new GvtException(ErrorCode.NO_SPACE, "no available instances of type " + type + " on this GPU ("
                        + e.getMessage() + ")", e);
            }
            throw e;
        }
        Path socket = settings.runtimeDir().resolve(uuid + ".sock");
        AttachedVgpu attached;
        try {
            attached = gvt.attach(vgpu.id(), settings.hypervisor(), new AttachRequest.UnixSocket(socket));
        } catch (RuntimeException e) {
            gvt.vgpus().destroy(vgpu.id());
            throw e;
        }
        Optional<VncServer> vnc = Optional.empty();
        try {
            access.applyToSocket(socket);
            if (settings.vncBasePort().isPresent()) {
                int port = settings.vncBasePort().get() + vgpu.id();
                int id = vgpu.id();
                vnc = Optional.of(VncServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                        settings.vncPassword(), "jgvt " + uuid, () -> gvt.capturePrimaryPlane(id)));
            }
        } catch (RuntimeException e) {
            gvt.detach(vgpu.id());
            gvt.vgpus().destroy(vgpu.id());
            throw e;
        }
        Started started = new Started(uuid, vgpu.id(), type, socket, vnc.map(VncServer::port));
        live.put(uuid, new Live(started, attached, vnc));
        log.info("vGPU {} ({}) started as vGPU {} on {}", uuid, type, vgpu.id(), socket);
        return started;
    }

    /**
     * {@code gvt stop}: detaches and destroys a started vGPU. Refused while a VMM is connected unless {@code force}
     * (the VMM then sees its connection closed).
     */
    public synchronized void stop(UUID uuid, boolean force) {
        Live l = live.get(uuid);
        if (l == null) {
            throw new GvtException(ErrorCode.NOT_FOUND, "vGPU " + uuid + " is not started");
        }
        if (!force && l.attached().binding().connected()) {
            throw new GvtException(ErrorCode.BUSY, "vGPU " + uuid + " is in use by a VMM on " + l.started().socket()
                    + " (stop the VM first, or use --force)");
        }
        live.remove(uuid);
        l.vnc().ifPresent(VncServer::close);
        try {
            gvt.detach(l.started().vgpuId());
        } finally {
            gvt.vgpus().destroy(l.started().vgpuId());
        }
        log.info("vGPU {} stopped", uuid);
    }

    /** {@code gvt list}: the started vGPUs, or with {@code defined} every definition (with its state). */
    public synchronized List<Entry> list(boolean defined) {
        List<Entry> result = new ArrayList<>();
        if (defined) {
            for (Definition d : store.load()) {
                Live l = live.get(d.uuid());
                result.add(entry(d.uuid(), d.type(), d.auto(), true, l));
            }
        } else {
            for (Live l : live.values()) {
                Optional<Definition> d = store.find(l.started().uuid());
                result.add(entry(l.started().uuid(), l.started().type(), d.map(Definition::auto).orElse(false), d.isPresent(), l));
            }
        }
        return result;
    }

    private static Entry entry(UUID uuid, String type, boolean auto, boolean defined, Live l) {
        return new Entry(uuid, type, auto, defined, l != null, l != null && l.attached().binding().connected(),
                l == null ? Optional.empty() : Optional.of(l.started().socket()),
                l == null ? Optional.empty() : l.started().vncPort());
    }

    /** The started vGPUs with their engine statistics (for metrics). */
    public synchronized List<Map.Entry<Started, VgpuStats>> stats() {
        List<Map.Entry<Started, VgpuStats>> result = new ArrayList<>();
        for (Live l : live.values()) {
            gvt.stats(l.started().vgpuId()).ifPresent(s -> result.add(Map.entry(l.started(), s)));
        }
        return result;
    }

    /** Seconds the GPU's {@code engine} spent executing workloads of any vGPU (for metrics). */
    public double engineBusySeconds(Engine engine) {
        return gvt.engineBusyNanos(engine) / 1e9;
    }

    /** The started vGPUs' trapped accesses per region (for metrics). */
    public synchronized List<Map.Entry<Started, AccessCounts>> accessCounts() {
        List<Map.Entry<Started, AccessCounts>> result = new ArrayList<>();
        for (Live l : live.values()) {
            result.add(Map.entry(l.started(), l.attached().vgpu().accessCounts()));
        }
        return result;
    }

    /** Starts every {@code auto} definition; one that fails is logged and returned, the others still start. */
    synchronized List<String> autostart() {
        List<String> failures = new ArrayList<>();
        for (Definition d : store.load()) {
            if (d.auto() && !live.containsKey(d.uuid())) {
                try {
                    start(d.uuid(), Optional.empty());
                } catch (GvtException e) {
                    failures.add(d.uuid() + ": " + e.getMessage());
                    log.warn("autostart of vGPU {} failed: {}", d.uuid(), e.getMessage());
                }
            }
        }
        return failures;
    }

    /** Stops every started vGPU (VMMs still connected see their connections closed). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (UUID uuid : List.copyOf(live.keySet())) {
            try {
                stop(uuid, true);
            } catch (RuntimeException e) {
                log.warn("stopping vGPU {} failed: {}", uuid, e.toString());
            }
        }
    }
}
