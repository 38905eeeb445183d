package dev.jgvt.cli;

import dev.jgvt.cli.daemon.Daemon;
import dev.jgvt.cli.daemon.RuntimePaths;
import dev.jgvt.cli.daemon.VgpuService;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gvt daemon}: the per-GPU service. One engine on the software GPU; vGPUs defined, started and stopped through
 * the control socket ({@code gvt define/start/stop/list/...}), each served to its own VMM on
 * {@code <runtime-dir>/<uuid>.sock}, time-sliced by the engine's scheduler.
 */
@Command(name = "daemon", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Run the per-GPU service: one engine, many vGPUs, each on its own vfio-user socket.",
            "",
            "vGPUs are managed with gvt types, define, undefine, modify, start, stop and list (mdevctl's verbs) through "
                    + "the control socket <runtime-dir>/control.sock, which only root, the service's user and members of "
                    + "--group may use. Definitions persist in --config-dir; those defined with --auto start with the "
                    + "service. Stop with Ctrl-C or SIGTERM: started vGPUs are stopped, their VMMs see the connection close.",
            ""
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ran until --seconds ran out", "1:the engine, a plugin or a socket failed",
            "2:bad options (directories, group, ports)", "130, 143:stopped by Ctrl-C or SIGTERM"})
final class DaemonCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--runtime-dir", paramLabel = "DIR",
            description = "Sockets go here (default /run/jgvt as root, else $XDG_RUNTIME_DIR/jgvt).")
    Path runtimeDir;

    @Option(names = "--config-dir", paramLabel = "DIR",
            description = "vGPU definitions, one JSON file each (default /etc/jgvt/vgpus as root, else $XDG_CONFIG_HOME/jgvt/vgpus).")
    Path configDir;

    @Option(names = "--group", paramLabel = "GROUP", description = "Members of this group may use the service and the vGPU sockets.")
    String group;

    @Option(names = "--hypervisor", paramLabel = "ID", defaultValue = "kvm-vfio", description = "Plugin that serves the vGPUs (default ${DEFAULT-VALUE}).")
    String hypervisor;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve Prometheus metrics on 127.0.0.1:PORT/metrics (0: any free port; default: no metrics).")
    Integer metricsPort;

    @Option(names = "--vnc-base-port", paramLabel = "PORT",
            description = "Show vGPU n's display over VNC on 127.0.0.1:PORT+n (n = 1..7; 5900 gives VNC displays :1..:7; default: no VNC).")
    Integer vncBasePort;

    @Option(names = "--vnc-password-file", paramLabel = "FILE",
            description = "VNC viewers must give the password on this file's first line (VNC authentication; at most 8 characters count).")
    Path vncPasswordFile;

    @Option(names = "--seconds", paramLabel = "S", description = "Stop after S seconds (default: run until stopped).")
    Double seconds;

    @CommandLine.Mixin
    ScanPpgttOption scanPpgtt = new ScanPpgttOption();

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "The plugins directory (default: the distribution's).")
    Path pluginsDir;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        Map<String, String> engineSettings = scanPpgtt.settings();
        if (seconds != null && !(seconds > 0 && seconds <= 86400 * 365)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--seconds must be in (0, 31536000], not " + seconds);
        }
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--metrics-port must be in 0..65535, not " + metricsPort);
        }
        if (vncBasePort != null && (vncBasePort < 1024 || vncBasePort > 65535 - 7)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--vnc-base-port must be in 1024..65528, not " + vncBasePort);
        }
        Optional<String> password = Optional.empty();
        if (vncPasswordFile != null) {
            String line = Files.readAllLines(vncPasswordFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            if (line.isEmpty()) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--vnc-password-file " + vncPasswordFile + ": the first line is empty");
            }
            password = Optional.of(line);
        }
        VgpuService.Settings settings = new VgpuService.Settings(RuntimePaths.runtimeDir(runtimeDir), RuntimePaths.configDir(configDir),
                hypervisor, Optional.ofNullable(vncBasePort), password);
        GvtConfig config = new GvtConfig(PluginsCommand.pluginsDirectory(pluginsDir), engineSettings);
        try (StopSignal stop = StopSignal.install("gvt-daemon-stop", 15);
                Daemon daemon = Daemon.start(config, settings, Optional.ofNullable(group), Optional.ofNullable(metricsPort))) {
            stdout.println("gvt daemon: the software Gen9 GPU; vGPUs served by plugin '" + hypervisor + "' in " + settings.runtimeDir()
                    + ", definitions in " + settings.configDir());
            stdout.println("control socket: " + daemon.controlSocket());
            daemon.metricsPort().ifPresent(p -> stdout.println("metrics: http://127.0.0.1:" + p + "/metrics"));
            daemon.autostartFailures().forEach(f -> stdout.println("autostart failed: " + f));
            for (VgpuService.Entry e : daemon.service().list(false)) {
                stdout.println("started " + e.uuid() + " (" + e.type() + ") on " + e.socket().orElseThrow()
                        + e.vncPort().map(p -> ", VNC 127.0.0.1:" + p).orElse(""));
            }
            stdout.println("Ready. Stop with Ctrl-C or SIGTERM.");
            stdout.flush();
            long deadline = seconds == null ? Long.MAX_VALUE : System.nanoTime() + (long) (seconds * 1e9);
            while (!stop.await(200) && System.nanoTime() < deadline) {
                // the control socket's threads do the work
            }
            stdout.println("gvt daemon: stopping");
            stdout.flush();
            return 0;
        }
    }
}
