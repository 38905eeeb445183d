package dev.jgvt.cli;

import dev.jgvt.guest.GuestDriver;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InProcessGuest;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gvt vmm}: the reference VMM, a process of its own. Owns guest RAM as a memfd, connects to a vfio-user
 * server ({@code gvt serve}), maps RAM with DMA_MAP, binds an MSI eventfd, offers page tracking, and runs the
 * guest driver simulator against the device over the wire. The VMM code is the kvm-vfio plugin's client side,
 * loaded from the plugin jar as a file (decision 0010); only its SPI-typed guest side crosses over.
 */
@Command(name = "vmm", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Run a guest against a vGPU served over vfio-user (the reference VMM).",
            "",
            "The guest driver enumerates the device, reads PVINFO, maps and flips a double-buffered framebuffer "
                    + "(waiting for flip-done MSIs) and rewrites a PPGTT the host shadows; its report is printed. Config "
                    + "and BAR accesses travel as REGION_READ/WRITE, guest RAM is a memfd the server maps, MSIs arrive on "
                    + "an eventfd, and writes to frames the server protects are forwarded (x-jgvt-page-tracking).",
            ""
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the guest saw correct results", "1:the guest saw wrong results or the connection failed", "2:bad options",
            "3:the server is serving another VMM (try again when it is free)"})
final class VmmCommand implements Callable<Integer> {
    static final String VMM_CLASS = "dev.jgvt.plugin.kvm.vmm.ReferenceVmm";
    /** The exit code when the server is serving another VMM. */
    static final int BUSY = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--socket", paramLabel = "PATH", required = true, description = "The vfio-user server's socket.")
    Path socket;

    @Option(names = "--ram", paramLabel = "SIZE", defaultValue = "128M", description = "Guest RAM, e.g. 64M or 1G (default ${DEFAULT-VALUE}).")
    String ram;

    @Option(names = "--frames", paramLabel = "F", defaultValue = "30", description = "Frames the guest shows (default ${DEFAULT-VALUE}).")
    int frames;

    @Option(names = "--size", paramLabel = "WxH", defaultValue = "640x360", description = "Guest display size (default ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--index", paramLabel = "N", defaultValue = "0", description = "The guest's picture seed (default ${DEFAULT-VALUE}).")
    int index;

    @Option(names = "--no-page-tracking", description = "Do not offer x-jgvt-page-tracking (the server then cannot trap page-table writes).")
    boolean noTracking;

    @Option(names = "--hold-ms", paramLabel = "MS", defaultValue = "300",
            description = "Stay connected this long after the guest finished, showing its last frame (default ${DEFAULT-VALUE}).")
    long holdMs;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "Where the kvm-vfio plugin jar is (default: the distribution's plugins/).")
    Path pluginsDir;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        long ramBytes = parseSize(ram);
        int[] dims = DemoCommand.parseSize(size);
        if (frames < 1 || frames > 100_000) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--frames must be 1..100000, not " + frames);
        }
        if (holdMs < 0 || holdMs > 60_000) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--hold-ms must be 0..60000, not " + holdMs);
        }
        if (!Files.exists(socket)) {
            throw new GvtException(ErrorCode.NOT_FOUND, "no socket at " + socket + " (is gvt serve running?)");
        }
        if (!isSocket(socket)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, socket + " is not a socket");
        }
        Path jar = pluginJar(PluginsCommand.pluginsDirectory(pluginsDir));
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, VmmCommand.class.getClassLoader())) {
            InProcessGuest guest;
            try {
                guest = open(loader, socket, Map.of("ram", Long.toString(ramBytes), "pageTracking", Boolean.toString(!noTracking)));
            } catch (GvtException e) {
                if (e.code() != ErrorCode.BUSY) {
                    throw e;
                }
                spec.commandLine().getErr().println("gvt vmm: " + e.getMessage());
                return BUSY;
            }
            try {
                stdout.println("gvt vmm: " + (ramBytes >> 20) + " MiB guest RAM (memfd), connected to " + socket + "; " + guest);
                stdout.flush();
                GuestDriver driver = new GuestDriver(new InProcessPlatform(guest), index, dims[0], dims[1]);
                GuestDriver.Report report = driver.run(frames, () -> true, f -> {});
                Optional<GvtException> lost = connectionLost(guest);
                if (lost.isPresent()) {
                    // whatever the guest saw after that is a consequence: one line says what happened
                    spec.commandLine().getErr().println("gvt vmm: " + lost.get().getMessage());
                    return ErrorHandler.FAILED;
                }
                Thread.sleep(holdMs);
                List<String> errors = new java.util.ArrayList<>(report.errors());
                if (report.frames() != frames) {
                    errors.add("showed " + report.frames() + " of " + frames + " frames");
                }
                if (report.flipsCompleted() != report.frames()) {
                    errors.add(report.flipsCompleted() + " flip-done interrupts for " + report.frames() + " frames");
                }
                stdout.println("guest report: frames=" + report.frames() + " flips=" + report.flipsCompleted() + " msis=" + report.msis()
                        + " ggttEntriesWritten=" + report.ggttEntriesWritten() + " ppgttEntriesWritten=" + report.ppgttEntriesWritten()
                        + " lastFrame=" + report.lastFrame() + " index=" + index + " size=" + dims[0] + "x" + dims[1]);
                stdout.println("guest submissions: elsp=" + report.submissions() + " contextsCompleted=" + new java.util.TreeMap<>(report.completions())
                        + " valuesChecked=" + report.valuesChecked() + " valueMismatches=" + report.valueMismatches()
                        + " blitPixelsChecked=" + report.pixelsChecked() + " blitPixelMismatches=" + report.pixelMismatches()
                        + " engineResets=" + report.engineResets());
                stdout.println(errors.isEmpty() ? "The guest saw correct results." : "THE GUEST SAW WRONG RESULTS: " + String.join("; ", errors));
                stdout.flush();
                return errors.isEmpty() ? 0 : 1;
            } finally {
                ((AutoCloseable) guest).close();
            }
        }
    }

    /** The connection's loss, when the server has closed it: the reference VMM then fails every device access ILLEGAL_STATE. */
    static Optional<GvtException> connectionLost(InProcessGuest guest) {
        try {
            guest.configRead(0, 2);
            return Optional.empty();
        } catch (GvtException e) {
            return e.code() == ErrorCode.ILLEGAL_STATE ? Optional.of(e) : Optional.empty();
        }
    }

    /** The reference VMM's entry point in the plugin jar: {@code open(Path, Map<String, String>)} returning the guest side. */
    static InProcessGuest open(ClassLoader loader, Path socket, Map<String, String> settings) {
        try {
            Method open = Class.forName(VMM_CLASS, true, loader).getMethod("open", Path.class, Map.class);
            return (InProcessGuest) open.invoke(null, socket, settings);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new GvtException(ErrorCode.INTERNAL, "the reference VMM failed: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new GvtException(ErrorCode.INTERNAL, "the kvm-vfio plugin jar has no usable " + VMM_CLASS + ": " + e);
        }
    }

    /** Whether {@code path} is a socket ({@code S_IFSOCK}); without the unix attribute view, whether it is neither file nor directory. */
    static boolean isSocket(Path path) throws IOException {
        try {
            return ((Integer) Files.getAttribute(path, "unix:mode") & 0170000) == 0140000;
        } catch (UnsupportedOperationException e) {
            return !Files.isRegularFile(path) && !Files.isDirectory(path);
        }
    }

    /** The kvm-vfio plugin's jar in {@code dir}: the one whose manifest says {@code Plugin-Id: kvm-vfio}. */
    static Path pluginJar(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new GvtException(ErrorCode.NOT_FOUND, "plugins directory " + dir + " does not exist");
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                try (JarFile jarFile = new JarFile(f.toFile())) {
                    if (jarFile.getManifest() != null
                            && "kvm-vfio".equals(jarFile.getManifest().getMainAttributes().getValue("Plugin-Id"))) {
                        return f;
                    }
                } catch (IOException e) {
                    // not a readable jar, so not the plugin (gvt plugins reports it)
                }
            }
        }
        throw new GvtException(ErrorCode.NOT_FOUND, "no kvm-vfio plugin jar in " + dir);
    }

    static long parseSize(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G")) {
            unit = switch (t.charAt(t.length() - 1)) {
                case 'K' -> 1L << 10;
                case 'M' -> 1L << 20;
                default -> 1L << 30;
            };
            t = t.substring(0, t.length() - 1);
        }
        try {
            long n = Long.parseLong(t) * unit;
            if (n >= (16L << 20) && n <= (16L << 30) && (n & 0xFFF) == 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--ram must be 16M..16G in whole pages (e.g. 128M), not '" + text + "'");
    }
}
