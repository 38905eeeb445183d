package dev.jgvt.cli.daemon;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.engine.VgpuStats;
import dev.jgvt.core.exec.ExecStats;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.vgpu.AccessCounts;
import dev.jgvt.core.vgpu.VgpuManager;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The service's counters in Prometheus text format on loopback ({@code http://127.0.0.1:<port>/metrics}), through the
 * Prometheus Java client: per started vGPU (labels {@code uuid}, {@code type}) what the engine counts in
 * {@link VgpuStats} and {@link ExecStats}, the scheduler's share of GPU time, and per engine the available
 * instances of each type and the time the scheduler gave to vGPUs. Values are read when scraped.
 */
final class DaemonMetrics implements AutoCloseable {
    private final HTTPServer server;

    private DaemonMetrics(HTTPServer server) {
        this.server = server;
    }

    static DaemonMetrics start(VgpuService service, int port) {
        requireNonNull(service, "service is null");
        PrometheusRegistry registry = new PrometheusRegistry();
        CounterWithCallback.builder().name("jgvt_vgpu_mmio_accesses")
                .help("guest accesses the vGPU trapped, per region (VFIO numbering: bar0, bar2, config, opregion, edid) and op")
                .labelNames("uuid", "type", "region", "op")
                .callback(cb -> {
                    for (Map.Entry<VgpuService.Started, AccessCounts> e : service.accessCounts()) {
                        AccessCounts counts = e.getValue();
                        for (int region = 0; region < counts.reads().length; region++) {
                            if (counts.reads(region) == 0 && counts.writes(region) == 0) {
                                continue;
                            }
                            String name = regionName(region);
                            cb.call(counts.reads(region), e.getKey().uuid().toString(), e.getKey().type(), name, "read");
                            cb.call(counts.writes(region), e.getKey().uuid().toString(), e.getKey().type(), name, "write");
                        }
                    }
                })
                .register(registry);
        counter(registry, service, "jgvt_vgpu_msis", "MSIs raised to the guest", s -> s.msiSignals());
        counter(registry, service, "jgvt_vgpu_ppgtt_writes", "guest page-table writes delivered to their shadows (tracked writes)",
                s -> s.trackedWrites());
        counter(registry, service, "jgvt_vgpu_ppgtt_traps", "page-table writes the PPGTT shadower handled", s -> s.ppgttTraps());
        counter(registry, service, "jgvt_vgpu_ggtt_writes", "guest GGTT entry writes shadowed (two 4-byte halves count once)",
                s -> s.ggttWrites());
        counter(registry, service, "jgvt_vgpu_ggtt_ignored_writes", "guest GGTT writes refused (outside the partition, malformed)",
                s -> s.ggttIgnoredWrites());
        counter(registry, service, "jgvt_vgpu_unhandled_mmio", "MMIO accesses to registers the model does not implement",
                s -> s.unhandledAccesses());
        counter(registry, service, "jgvt_vgpu_submissions", "workloads created from ELSP writes", s -> s.exec().submissions());
        counter(registry, service, "jgvt_vgpu_workloads_completed", "workloads completed and reported to the guest", s -> s.exec().completed());
        counter(registry, service, "jgvt_vgpu_workloads_rejected", "ELSP writes and workloads refused as guest errors",
                s -> s.exec().rejected());
        counter(registry, service, "jgvt_vgpu_workloads_hung", "workloads the host engine stopped on", s -> s.exec().hung());
        counter(registry, service, "jgvt_vgpu_workloads_failed", "workloads dropped for other reasons", s -> s.exec().failed());
        counter(registry, service, "jgvt_vgpu_commands_scanned", "ring and batch commands the scanner accepted",
                s -> s.exec().commandsScanned());
        counter(registry, service, "jgvt_vgpu_bytes_scanned", "ring and batch bytes scanned and shadowed", s -> s.exec().bytesScanned());
        counter(registry, service, "jgvt_vgpu_commands_executed", "commands the host engines executed", s -> s.exec().commandsExecuted());
        counter(registry, service, "jgvt_vgpu_scheduled_seconds", "GPU time the scheduler gave this vGPU",
                s -> s.exec().ownedNanos() / 1e9);
        counter(registry, service, "jgvt_vgpu_mediation_seconds", "time the core spent mediating this vGPU's submissions",
                s -> s.exec().mediationNanos() / 1e9);
        gauge(registry, service, "jgvt_vgpu_pinned_frames", "guest frames pinned now", s -> s.pinnedFrames());
        gauge(registry, service, "jgvt_vgpu_failsafe", "1 when the vGPU failed (failsafe mode)", s -> s.failsafe() ? 1 : 0);
        GaugeWithCallback.builder().name("jgvt_vgpu_scheduler_share")
                .help("this vGPU's fraction of the GPU time the scheduler gave to all started vGPUs")
                .labelNames("uuid", "type")
                .callback(cb -> {
                    List<Map.Entry<VgpuService.Started, VgpuStats>> stats = service.stats();
                    double total = stats.stream().mapToLong(e -> e.getValue().exec().ownedNanos()).sum();
                    for (Map.Entry<VgpuService.Started, VgpuStats> e : stats) {
                        cb.call(total == 0 ? 0 : e.getValue().exec().ownedNanos() / total, e.getKey().uuid().toString(),
                                e.getKey().type());
                    }
                })
                .register(registry);
        GaugeWithCallback.builder().name("jgvt_vgpu_connected").help("1 while a VMM is connected to the vGPU's socket")
                .labelNames("uuid", "type")
                .callback(cb -> service.list(false).forEach(e -> cb.call(e.connected() ? 1 : 0, e.uuid().toString(), e.type())))
                .register(registry);
        GaugeWithCallback.builder().name("jgvt_type_available_instances").help("instances of the type that can still be started")
                .labelNames("type")
                .callback(cb -> {
                    for (VgpuManager.TypeAvailability t : service.types()) {
                        cb.call(t.availableInstances(), t.type().name());
                    }
                })
                .register(registry);
        GaugeWithCallback.builder().name("jgvt_vgpus_started").help("vGPUs started on this GPU")
                .callback(cb -> cb.call(service.list(false).size()))
                .register(registry);
        CounterWithCallback.builder().name("jgvt_engine_scheduled_seconds")
                .help("GPU time the scheduler gave to the started vGPUs, summed (the engine's busy time as the scheduler sees it)")
                .callback(cb -> cb.call(service.stats().stream().mapToLong(e -> e.getValue().exec().ownedNanos()).sum() / 1e9))
                .register(registry);
        CounterWithCallback.builder().name("jgvt_engine_busy_seconds")
                .help("time the GPU's engine spent executing workloads of any vGPU").labelNames("engine")
                .callback(cb -> {
                    for (Engine engine : Engine.GT2) {
                        cb.call(service.engineBusySeconds(engine), engine.cliName());
                    }
                })
                .register(registry);
        try {
            return new DaemonMetrics(HTTPServer.builder().inetAddress(InetAddress.getLoopbackAddress()).port(port)
                    .registry(registry).buildAndStart());
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot serve metrics on 127.0.0.1:" + port + ": " + e.getMessage(), e);
        }
    }

    private static String regionName(int region) {
        return switch (region) {
            case DeviceLayout.BAR0 -> "bar0";
            case DeviceLayout.BAR2 -> "bar2";
            case DeviceLayout.CONFIG -> "config";
            case DeviceLayout.FIRST_DEVICE_REGION -> "opregion";
            case DeviceLayout.FIRST_DEVICE_REGION + 1 -> "edid";
            default -> "region" + region;
        };
    }

    private static void counter(PrometheusRegistry registry, VgpuService service, String name, String help,
            ToDoubleFunction<VgpuStats> value) {
        CounterWithCallback.builder().name(name).help(help).labelNames("uuid", "type")
                .callback(cb -> service.stats().forEach(e -> cb.call(value.applyAsDouble(e.getValue()),
                        e.getKey().uuid().toString(), e.getKey().type())))
                .register(registry);
    }

    private static void gauge(PrometheusRegistry registry, VgpuService service, String name, String help,
            ToDoubleFunction<VgpuStats> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("uuid", "type")
                .callback(cb -> service.stats().forEach(e -> cb.call(value.applyAsDouble(e.getValue()),
                        e.getKey().uuid().toString(), e.getKey().type())))
                .register(registry);
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
    }
}
