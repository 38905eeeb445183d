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
import dev.jgvt.core.vgpu.VgpuManager;
import dev.jgvt.core.vgpu.VgpuType;
import dev.jgvt.guest.GuestDriver;
import dev.jgvt.guest.GuestEngine;
import dev.jgvt.guest.Picture;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gvt demo}: the main job. Creates vGPUs on the software GPU, attaches each to an in-process guest
 * through a hypervisor plugin, runs a guest driver per vGPU concurrently, then reads every guest's display
 * back through the host GGTT and checks it pixel by pixel.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Run guests on vGPUs end to end and check what they produce.",
            "",
            "Each guest enumerates its vGPU, reads PVINFO, maps a double-buffered framebuffer through its GGTT, "
                    + "and every frame submits work through execlists on four engines: the blitter draws the frame, "
                    + "the render, video and video-enhancement engines store values through the GGTT and PPGTTs, one "
                    + "of them a PPGTT whose entries the guest keeps rewriting. The guest checks the context status "
                    + "events, every stored value and every blitted pixel, then flips (waiting for flip-done interrupts). "
                    + "The host then scans each display out through its shadow GGTT and compares every pixel.",
            ""
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every guest saw correct results", "1:a guest observed a wrong result or the run failed",
            "2:bad options", "130, 143:stopped by Ctrl-C or SIGTERM (the frames shown so far are checked and written)"})
final class DemoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--vgpus", paramLabel = "N", defaultValue = "4", description = "vGPUs to create (1..7 and as many as fit of the type, see gvt types; default ${DEFAULT-VALUE}).")
    int vgpus;

    @Option(names = "--type", paramLabel = "T", defaultValue = "GVTg_V5_4", description = "vGPU type (default ${DEFAULT-VALUE}; see gvt types).")
    String type;

    @CommandLine.ArgGroup(exclusive = true)
    Length length = new Length();

    static final class Length {
        @Option(names = "--frames", paramLabel = "F", description = "Frames each guest shows (default 60).")
        Integer frames;

        @Option(names = "--seconds", paramLabel = "S", description = "Run for S seconds instead of a frame count.")
        Double seconds;
    }

    @Option(names = "--hypervisor", paramLabel = "ID", defaultValue = "fake",
            description = "Plugin that hosts the guests (default ${DEFAULT-VALUE}; xen runs on its emulated Xen when this is no dom0).")
    String hypervisor;

    @Option(names = "--size", paramLabel = "WxH", defaultValue = "640x360", description = "Guest display size, at most the type's resolution (default ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-out",
            description = "Where vgpu-<i>.png and summary.json go (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "The plugins directory (default: the distribution's).")
    Path pluginsDir;

    private static final long GUEST_RAM = 128L << 20;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        int[] dims = parseSize(size);
        if (vgpus < 1 || vgpus > 7) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--vgpus must be 1..7, not " + vgpus);
        }
        int frames = length.frames != null ? length.frames : length.seconds != null ? Integer.MAX_VALUE : 60;
        if (frames < 1) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--frames must be at least 1, not " + frames);
        }
        if (length.seconds != null && !(length.seconds > 0 && length.seconds <= 3600)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--seconds must be in (0, 3600], not " + length.seconds);
        }
        // made now, so a directory that cannot be made fails before the run; removed again if the run writes nothing
        boolean made = !Files.exists(out);
        OutputDirectory.create(out);
        try {
            return run(stdout, dims, frames);
        } finally {
            if (made) {
                OutputDirectory.removeIfEmpty(out);
            }
        }
    }

    private int run(PrintWriter stdout, int[] dims, int frames) throws Exception {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("plugin.xen.backend", "auto"); // real Xen where this is a dom0, its emulation elsewhere
        GvtConfig config = new GvtConfig(PluginsCommand.pluginsDirectory(pluginsDir), settings);
        HostGeometry geometry = config.geometry();
        // Ctrl-C or SIGTERM stops the guests after their current frame; what they showed is still checked and written
        AtomicBoolean stopRequested = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopRequested.set(true);
            try {
                finished.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "gvt-demo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try (SimGpu gpu = new SimGpu(new SimGpuConfig((int) (geometry.ggttSize() >>> 12), 1L << 24, 1L << 30, true));
                Gvt gvt = Gvt.start(config, gpu)) {
            checkFits(gvt, dims);
            List<Vgpu> created = new ArrayList<>();
            for (int i = 0; i < vgpus; i++) {
                created.add(gvt.vgpus().create(type));
            }
            List<AttachedVgpu> attached = new ArrayList<>();
            for (Vgpu vgpu : created) {
                attached.add(gvt.attach(vgpu.id(), hypervisor, new AttachRequest.InProcess("guest" + vgpu.id(), GUEST_RAM)));
            }
            stdout.println("jgvt demo: " + vgpus + " x " + type + " on the software Gen9 GPU, guests on plugin '"
                    + hypervisor + "' (" + gvt.plugin(hypervisor).availability().reason() + ")");
            stdout.flush();
            // the guests' time starts when they do, not while the engine loads its plugins
            long deadline = length.seconds == null ? Long.MAX_VALUE : System.nanoTime() + (long) (length.seconds * 1e9);
            List<GuestDriver.Report> reports = runGuests(attached, dims, frames,
                    () -> !stopRequested.get() && System.nanoTime() < deadline);
            if (stopRequested.get()) {
                spec.commandLine().getErr().println("gvt demo: stopped by a signal; checking what the guests showed");
                spec.commandLine().getErr().flush();
            }

            List<Map<String, Object>> rows = new ArrayList<>();
            boolean allGood = true;
            for (int i = 0; i < attached.size(); i++) {
                Vgpu vgpu = attached.get(i).vgpu();
                GuestDriver.Report report = reports.get(i);
                List<String> errors = new ArrayList<>(report.errors());
                Optional<PlaneCapture> capture = gvt.capturePrimaryPlane(vgpu.id());
                long mismatches = 0;
                long checked = 0;
                Path png = out.resolve("vgpu-" + vgpu.id() + ".png");
                if (capture.isEmpty()) {
                    errors.add("the host sees no enabled primary plane");
                } else {
                    PlaneCapture c = capture.get();
                    for (int y = 0; y < c.plane().height(); y++) {
                        for (int x = 0; x < c.plane().width(); x++) {
                            checked++;
                            if (c.pixel(x, y) != Picture.pixel(vgpu.id(), report.lastFrame(), c.plane().width(),
                                    c.plane().height(), x, y)) {
                                mismatches++;
                            }
                        }
                    }
                    if (mismatches > 0) {
                        errors.add(mismatches + " of " + checked + " pixels differ from frame " + report.lastFrame());
                    }
                    writePng(c, png);
                }
                VgpuStats stats = gvt.stats(vgpu.id()).orElseThrow();
                if (stats.failsafe()) {
                    errors.add("the vGPU entered failsafe");
                }
                if (stats.exec().rejected() > 0 || stats.exec().hung() > 0) {
                    errors.add("the host rejected " + stats.exec().rejected() + " and saw " + stats.exec().hung()
                            + " hung workloads");
                }
                allGood &= errors.isEmpty();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("vgpu", vgpu.id());
                row.put("type", vgpu.type().name());
                row.put("hypervisor", hypervisor);
                row.put("frames", report.frames());
                row.put("flipsCompleted", report.flipsCompleted());
                row.put("msisDelivered", report.msis());
                row.put("ggttEntriesWritten", report.ggttEntriesWritten());
                row.put("ppgttEntriesWritten", report.ppgttEntriesWritten());
                row.put("ppgttWritesTrapped", stats.trackedWrites());
                row.put("pinnedFrames", stats.pinnedFrames());
                row.put("pixelsChecked", checked);
                row.put("pixelMismatches", mismatches);
                row.put("submissions", report.submissions());
                Map<String, Long> completions = new LinkedHashMap<>();
                for (GuestEngine engine : GuestEngine.values()) {
                    completions.put(engine.name(), report.completions().getOrDefault(engine, 0L));
                }
                row.put("contextsCompleted", completions);
                row.put("valuesChecked", report.valuesChecked());
                row.put("valueMismatches", report.valueMismatches());
                row.put("blitPixelsChecked", report.pixelsChecked());
                row.put("blitPixelMismatches", report.pixelMismatches());
                row.put("engineResets", report.engineResets());
                row.put("workloadsCompleted", stats.exec().completed());
                row.put("commandsScanned", stats.exec().commandsScanned());
                row.put("bytesScanned", stats.exec().bytesScanned());
                row.put("scanMBps", Math.round(stats.exec().scanMegabytesPerSecond() * 10) / 10.0);
                row.put("commandsExecuted", stats.exec().commandsExecuted());
                row.put("rejectedWorkloads", stats.exec().rejected());
                row.put("hungWorkloads", stats.exec().hung());
                row.put("png", capture.isPresent() ? png.toString() : null);
                row.put("errors", errors);
                rows.add(row);
            }
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("ok", allGood);
            summary.put("vgpus", rows);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("summary.json").toFile(), summary);
            printSummary(stdout, rows);
            stdout.println();
            stdout.println("Wrote " + out.resolve("summary.json") + " and " + rows.size() + (rows.size() == 1 ? " PNG. " : " PNGs. ")
                    + (allGood ? "Every guest saw correct results." : "SOME GUESTS SAW WRONG RESULTS (see errors)."));
            stdout.flush();
            return allGood ? 0 : 1;
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook is running
            }
        }
    }

    /** Rejects a run the host cannot hold: more vGPUs of the type than fit, or a display larger than the type's. */
    private void checkFits(Gvt gvt, int[] dims) {
        Optional<VgpuManager.TypeAvailability> offered = gvt.vgpus().types().stream()
                .filter(t -> t.type().name().equals(type)).findFirst();
        if (offered.isEmpty()) {
            return; // creating it names the types there are
        }
        if (offered.get().availableInstances() < vgpus) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--vgpus " + vgpus + ": only " + offered.get().availableInstances()
                    + " vGPUs of type " + type + " fit on this host (see gvt types)");
        }
        VgpuType.Resolution display = offered.get().type().resolution();
        if (dims[0] > display.width() || dims[1] > display.height()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--size " + size + " is larger than the display of type " + type
                    + " (" + display + ")");
        }
    }

    private List<GuestDriver.Report> runGuests(List<AttachedVgpu> attached, int[] dims, int frames, BooleanSupplier keepGoing)
            throws InterruptedException {
        int n = attached.size();
        AtomicIntegerArray done = new AtomicIntegerArray(n);
        List<GuestDriver.Report> reports = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            reports.add(null);
        }
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int slot = i;
            AttachedVgpu a = attached.get(i);
            GuestDriver driver = new GuestDriver(new InProcessPlatform(a.inProcessGuest().orElseThrow(() ->
                    new GvtException(ErrorCode.UNSUPPORTED, "plugin '" + a.pluginId() + "' hosts no in-process guest"))),
                    a.vgpu().id(), dims[0], dims[1]);
            threads.add(Thread.ofPlatform().name("guest-" + a.vgpu().id()).start(() -> {
                try {
                    reports.set(slot, driver.run(frames, keepGoing, f -> done.set(slot, f + 1)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        Progress progress = new Progress(spec.commandLine().getErr(), done, frames == Integer.MAX_VALUE ? -1 : frames);
        for (Thread thread : threads) {
            while (thread.isAlive()) {
                thread.join(200);
                progress.show();
            }
        }
        progress.finish();
        for (int i = 0; i < n; i++) {
            if (reports.get(i) == null) {
                reports.set(i, GuestDriver.Report.failed("the guest thread was interrupted"));
            }
        }
        return reports;
    }

    /** A one-line progress bar on stderr, redrawn in place on a terminal and printed once otherwise. */
    private static final class Progress {
        private final PrintWriter err;
        private final AtomicIntegerArray done;
        private final int target;
        private final boolean terminal = System.console() != null;

        Progress(PrintWriter err, AtomicIntegerArray done, int target) {
            this.err = err;
            this.done = done;
            this.target = target;
        }

        void show() {
            if (terminal) {
                err.print("\r" + line());
                err.flush();
            }
        }

        void finish() {
            err.println(terminal ? "\r" + line() : line());
            err.flush();
        }

        private String line() {
            long sum = 0;
            for (int i = 0; i < done.length(); i++) {
                sum += done.get(i);
            }
            if (target < 0) {
                return "frames shown: " + sum;
            }
            long total = (long) target * done.length();
            int width = 30;
            int filled = (int) (width * sum / Math.max(1, total));
            return "[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + sum + "/" + total + " frames";
        }
    }

    private static void printSummary(PrintWriter out, List<Map<String, Object>> rows) {
        String[] keys = {"vgpu", "type", "frames", "flipsCompleted", "msisDelivered", "ggttEntriesWritten",
            "ppgttWritesTrapped", "submissions", "contextsCompleted", "valuesChecked", "valueMismatches",
            "commandsScanned", "rejectedWorkloads", "scanMBps", "pixelsChecked", "pixelMismatches", "errors"};
        String[] heads = {"VGPU", "TYPE", "FRAMES", "FLIPS", "MSIS", "GGTT WRITES", "PPGTT TRAPS", "ELSP",
            "DONE R/B/V/VE", "VALUES", "WRONG", "SCANNED", "REJECTED", "SCAN MB/S", "PIXELS", "WRONG", "ERRORS"};
        List<String[]> lines = new ArrayList<>();
        lines.add(heads);
        for (Map<String, Object> row : rows) {
            String[] line = new String[keys.length];
            for (int k = 0; k < keys.length; k++) {
                Object v = row.get(keys[k]);
                line[k] = v instanceof List<?> list ? (list.isEmpty() ? "-" : String.join("; ", list.stream().map(String::valueOf).toList()))
                        : v instanceof Map<?, ?> map ? String.join("/", map.values().stream().map(String::valueOf).toList())
                        : String.valueOf(v);
            }
            lines.add(line);
        }
        int[] widths = new int[heads.length];
        for (String[] line : lines) {
            for (int k = 0; k < line.length; k++) {
                widths[k] = Math.max(widths[k], line[k].length());
            }
        }
        for (String[] line : lines) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < line.length; k++) {
                sb.append(k == line.length - 1 ? line[k] : String.format("%-" + widths[k] + "s  ", line[k]));
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    private static void writePng(PlaneCapture capture, Path file) {
        BufferedImage image = new BufferedImage(capture.plane().width(), capture.plane().height(), BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, capture.plane().width(), capture.plane().height(), capture.pixels(), 0, capture.plane().width());
        try {
            ImageIO.write(image, "png", file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    static int[] parseSize(String text) {
        String[] parts = text.trim().toLowerCase(java.util.Locale.ROOT).split("x", -1);
        try {
            if (parts.length == 2) {
                int w = Integer.parseInt(parts[0]);
                int h = Integer.parseInt(parts[1]);
                if (w >= 16 && h >= 16 && w <= 4096 && h <= 4096) {
                    return new int[] {w, h};
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--size must be WxH with both in 16..4096, not '" + text + "'");
    }
}
