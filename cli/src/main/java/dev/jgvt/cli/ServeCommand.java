package dev.jgvt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.engine.PlaneCapture;
import dev.jgvt.core.engine.VgpuStats;
import dev.jgvt.core.vgpu.HostGeometry;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gvt serve}: one vGPU on the software GPU, attached through a plugin that exposes it on a socket
 * (kvm-vfio: a vfio-user server), served until SIGINT/SIGTERM or the time limit. With {@code --out} it keeps
 * the last complete picture the host scanned out while a VMM was connected and writes it on exit.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Serve a vGPU to an external VMM over a socket.",
            "",
            "Starts the engine on the software Gen9 GPU, creates one vGPU and attaches it through the plugin, which "
                    + "listens on the socket (kvm-vfio speaks vfio-user: gvt vmm, or any vfio-user client). VMMs are "
                    + "served one after another (one that connects while another is served is refused at once); a VMM that "
                    + "disconnects takes its guest RAM and interrupts with it, the vGPU's state stays. Stop with Ctrl-C "
                    + "(SIGINT) or SIGTERM: a VMM still connected sees its connection closed.",
            ""
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:served until --seconds ran out", "1:the engine or plugin failed", "2:bad options (socket path, type)",
            "130, 143:stopped by Ctrl-C or SIGTERM"})
final class ServeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--socket", paramLabel = "PATH", required = true, description = "Socket path to listen on (must not exist).")
    Path socket;

    @Option(names = "--type", paramLabel = "T", defaultValue = "GVTg_V5_4", description = "vGPU type (default ${DEFAULT-VALUE}; see gvt types).")
    String type;

    @Option(names = "--hypervisor", paramLabel = "ID", defaultValue = "kvm-vfio", description = "Plugin that serves the vGPU (default ${DEFAULT-VALUE}).")
    String hypervisor;

    @Option(names = "--seconds", paramLabel = "S", description = "Stop after S seconds (default: run until stopped).")
    Double seconds;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Write the last picture the host scanned out while a VMM was connected (vgpu-<id>.png) and serve.json here on exit.")
    Path out;

    @CommandLine.Mixin
    ScanDumpOptions scanDump = new ScanDumpOptions();

    @CommandLine.Mixin
    ScanPpgttOption scanPpgtt = new ScanPpgttOption();

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "The plugins directory (default: the distribution's).")
    Path pluginsDir;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        Path path = socket.toAbsolutePath().normalize();
        checkSocketPath(path);
        if (seconds != null && !(seconds > 0 && seconds <= 86400)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--seconds must be in (0, 86400], not " + seconds);
        }
        Map<String, String> settings = new java.util.HashMap<>(scanDump.settings());
        settings.putAll(scanPpgtt.settings());
        if (out != null) {
            OutputDirectory.create(out); // now: a directory that cannot be made must not lose a whole session's picture
        }
        GvtConfig config = new GvtConfig(PluginsCommand.pluginsDirectory(pluginsDir), settings);
        HostGeometry geometry = config.geometry();
        try (StopSignal stop = StopSignal.install("gvt-serve-stop", 10);
                SimGpu gpu = new SimGpu(new SimGpuConfig((int) (geometry.ggttSize() >>> 12), 1L << 24, 1L << 30, true));
                Gvt gvt = Gvt.start(config, gpu)) {
            Vgpu vgpu = gvt.vgpus().create(type);
            AttachedVgpu attached = gvt.attach(vgpu.id(), hypervisor, new AttachRequest.UnixSocket(path));
            stdout.println("gvt serve: vGPU " + vgpu.id() + " (" + vgpu.type().name() + ") on the software Gen9 GPU, served by plugin '"
                    + attached.pluginId() + "' on " + path);
            stdout.println("Stop with Ctrl-C or SIGTERM.");
            stdout.flush();
            Capturer capturer = new Capturer(gvt, vgpu.id());
            long deadline = seconds == null ? Long.MAX_VALUE : System.nanoTime() + (long) (seconds * 1e9);
            while (!stop.await(out == null ? 500 : 20) && System.nanoTime() < deadline) {
                if (out != null) {
                    capturer.poll();
                }
            }
            if (out != null) {
                capturer.capture(); // the picture as it is at exit, whatever the guest did last
            }
            VgpuStats stats = gvt.stats(vgpu.id()).orElse(null);
            gvt.detach(vgpu.id());
            if (out != null) {
                capturer.write(out, stats);
            }
            stdout.println("gvt serve: stopped" + (stats == null ? "" : "; MSIs " + stats.msiSignals() + ", tracked writes "
                    + stats.trackedWrites() + ", failsafe " + stats.failsafe()));
            stdout.flush();
            return 0;
        }
    }

    /** One line for each way the socket path cannot work, before anything starts. */
    static void checkSocketPath(Path path) {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "socket path " + path + " exists (remove it, or choose another path)");
        }
        Path dir = path.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "socket path " + path + ": directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "socket path " + path + ": directory " + dir + " is not writable");
        }
        if (path.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 107) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "socket path " + path + " is longer than the 107 bytes AF_UNIX allows");
        }
    }

    /**
     * Keeps the last complete picture of the vGPU's primary plane, sampled after each new MSI and at least every
     * {@link #PERIOD_NANOS} (a guest that draws and then idles raises no MSI), and once more at exit.
     */
    private static final class Capturer {
        private final Gvt gvt;
        private final int vgpuId;
        static final long PERIOD_NANOS = 500_000_000L;
        private long lastMsis = -1;
        private long lastNanos;
        private PlaneCapture last;
        private long captures;

        Capturer(Gvt gvt, int vgpuId) {
            this.gvt = gvt;
            this.vgpuId = vgpuId;
        }

        void poll() {
            Optional<VgpuStats> stats = gvt.stats(vgpuId);
            long now = System.nanoTime();
            if (stats.isEmpty() || stats.get().msiSignals() == lastMsis && now - lastNanos < PERIOD_NANOS) {
                return;
            }
            lastMsis = stats.get().msiSignals();
            capture();
        }

        void capture() {
            lastNanos = System.nanoTime();
            gvt.capturePrimaryPlane(vgpuId).filter(c -> c.unmappedPages() == 0).ifPresent(c -> {
                last = c;
                captures++;
            });
        }

        void write(Path dir, VgpuStats stats) throws IOException {
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("vgpu", vgpuId);
            summary.put("captures", captures);
            if (stats != null) {
                summary.put("msiSignals", stats.msiSignals());
                summary.put("trackedWrites", stats.trackedWrites());
                summary.put("ppgttTraps", stats.ppgttTraps());
                summary.put("failsafe", stats.failsafe());
            }
            if (last != null) {
                Path png = dir.resolve("vgpu-" + vgpuId + ".png");
                BufferedImage image = new BufferedImage(last.plane().width(), last.plane().height(), BufferedImage.TYPE_INT_RGB);
                image.setRGB(0, 0, last.plane().width(), last.plane().height(), last.pixels(), 0, last.plane().width());
                try {
                    ImageIO.write(image, "png", png.toFile());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write " + png, e);
                }
                summary.put("png", png.toString());
                summary.put("width", last.plane().width());
                summary.put("height", last.plane().height());
            } else {
                summary.put("png", null);
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve("serve.json").toFile(), summary);
        }
    }
}
