package dev.jgvt.cli.daemon;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.vgpu.HostGeometry;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The running per-GPU service ({@code gvt daemon}): the software GPU, one engine, the {@link VgpuService}, the
 * control socket, the metrics endpoint; auto vGPUs started. {@link #close} stops everything in reverse order.
 */
public final class Daemon implements AutoCloseable {
    private final SimGpu gpu;
    private final Gvt gvt;
    private final VgpuService service;
    private final ControlServer control;
    private final Optional<DaemonMetrics> metrics;
    private final List<String> autostartFailures;

    private Daemon(SimGpu gpu, Gvt gvt, VgpuService service, ControlServer control, Optional<DaemonMetrics> metrics,
            List<String> autostartFailures) {
        this.gpu = gpu;
        this.gvt = gvt;
        this.service = service;
        this.control = control;
        this.metrics = metrics;
        this.autostartFailures = autostartFailures;
    }

    /**
     * Starts the service.
     *
     * @param metricsPort the loopback port for {@code /metrics} (0: any free port), or empty for none
     */
    public static Daemon start(GvtConfig config, VgpuService.Settings settings, Optional<String> group, Optional<Integer> metricsPort) {
        requireNonNull(config, "config is null");
        Path runtimeDir = settings.runtimeDir();
        try {
            Files.createDirectories(runtimeDir);
        } catch (IOException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "cannot create the runtime directory " + runtimeDir + ": " + e, e);
        }
        Access access = Access.forService(runtimeDir, group);
        access.applyToDirectory(runtimeDir);
        HostGeometry geometry = config.geometry();
        SimGpu gpu = new SimGpu(new SimGpuConfig((int) (geometry.ggttSize() >>> 12), 1L << 24, 1L << 30, true));
        // the command streamers now, not at the first workload: building them parses the software GPU's command table
        // (about 120 ms on a loaded host), which a guest's first workload would otherwise spend holding the GPU while
        // another guest's probe waits (docs/linux-guest.md, concurrent probes)
        gpu.engines();
        Gvt gvt = null;
        VgpuService service = null;
        ControlServer control = null;
        try {
            gvt = Gvt.start(config, gpu);
            gvt.plugin(settings.hypervisor()); // fails now, with the reason, if the plugin is not there
            service = new VgpuService(gvt, settings, access);
            control = ControlServer.start(ControlClient.socket(runtimeDir), access, new ControlHandler(service));
            removeStaleSockets(runtimeDir); // no other service answers on this directory: what is left is a dead one's
            List<String> failures = service.autostart();
            Optional<DaemonMetrics> metrics = Optional.empty();
            if (metricsPort.isPresent()) {
                metrics = Optional.of(DaemonMetrics.start(service, metricsPort.get()));
            }
            return new Daemon(gpu, gvt, service, control, metrics, failures);
        } catch (RuntimeException e) {
            if (control != null) {
                control.close();
            }
            if (service != null) {
                service.close();
            }
            if (gvt != null) {
                gvt.close();
            }
            gpu.close();
            throw e;
        }
    }

    private static void removeStaleSockets(Path runtimeDir) {
        try (var files = Files.list(runtimeDir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".sock")
                    && !f.equals(ControlClient.socket(runtimeDir))).toList()) {
                if (Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther()) { // sockets only; a file a user put there stays
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot clean the runtime directory " + runtimeDir + ": " + e, e);
        }
    }

    public Path controlSocket() {
        return control.path();
    }

    public Optional<Integer> metricsPort() {
        return metrics.map(DaemonMetrics::port);
    }

    public VgpuService service() {
        return service;
    }

    public List<String> autostartFailures() {
        return autostartFailures;
    }

    @Override
    public void close() {
        try {
            control.close();
            metrics.ifPresent(DaemonMetrics::close);
            service.close();
            gvt.close();
        } finally {
            gpu.close();
        }
    }
}
