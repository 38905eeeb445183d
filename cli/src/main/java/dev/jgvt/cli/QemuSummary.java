package dev.jgvt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jgvt.core.engine.PlaneCapture;
import dev.jgvt.core.engine.VgpuStats;
import dev.jgvt.core.exec.ExecStats;
import dev.jgvt.core.vgpu.AccessCounts;
import dev.jgvt.spi.DeviceLayout;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** Writes what a {@code gvt qemu} run saw: {@code summary.json}, {@code console.log} and {@code vgpu-<id>.png}. */
final class QemuSummary {
    /** How many unhandled offsets summary.json lists (the most frequent). */
    static final int UNHANDLED_LISTED = 200;

    private QemuSummary() {}

    static void write(Path dir, GuestQemu vm, GuestQemu.Machine machine, QemuRun run, QemuRun.Outcome outcome) throws IOException {
        Files.write(dir.resolve("console.log"), run.log().consoleLines(), StandardCharsets.UTF_8);
        GuestLog.Report guest = run.log().report();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("outcome", outcome.end().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        summary.put("exitCode", outcome.exitCode());
        summary.put("seconds", Math.round(outcome.seconds() * 1000) / 1000.0);
        summary.put("qemu", Map.of("run", vm.description(), "exit", outcome.qemuExit(), "stderr", run.qemuErrors(),
                "command", run.command()));
        summary.put("kernel", Map.of("version", machine.kernel().version(), "cmdline", machine.append()));

        Map<String, Object> g = new LinkedHashMap<>();
        g.put("exitStatus", guest.exitStatus());
        g.put("panic", run.log().panic());
        g.put("commands", guest.commandStatus());
        g.put("marks", guest.marks());
        g.put("dmesgComplete", guest.dmesgComplete());
        g.put("device", Map.of("id", String.valueOf(guest.deviceId()), "class", String.valueOf(guest.deviceClass()), "bars", guest.bars()));
        g.put("gvtDetected", guest.gvtDetected());
        g.put("i915Initialized", guest.i915Initialized());
        g.put("i915Wedged", guest.wedged());
        g.put("probeSeconds", guest.probeSeconds());
        g.put("deviceProbeSeconds", guest.deviceProbeSeconds());
        g.put("i915ErrorCount", guest.i915Errors().size());
        g.put("warningCount", guest.warnings().size());
        g.put("i915Errors", guest.i915Errors());
        g.put("warnings", guest.warnings());
        summary.put("guest", g);

        if (run.host().isPresent()) {
            summary.put("host", host(run, dir));
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve("summary.json").toFile(), summary);
    }

    private static Map<String, Object> host(QemuRun run, Path dir) throws IOException {
        Map<String, Object> h = new LinkedHashMap<>();
        int id = run.host().orElseThrow().vgpu().id();
        h.put("vgpu", id);
        h.put("type", run.host().orElseThrow().vgpu().type().name());
        VgpuStats stats = run.finalStats();
        if (stats != null) {
            h.put("msiSignals", stats.msiSignals());
            h.put("unhandledAccesses", stats.unhandledAccesses());
            h.put("trackedWrites", stats.trackedWrites());
            h.put("ppgttTraps", stats.ppgttTraps());
            h.put("ggttWrites", stats.ggttWrites());
            h.put("ggttIgnoredWrites", stats.ggttIgnoredWrites());
            h.put("failsafe", stats.failsafe());
            ExecStats exec = stats.exec();
            h.put("submissions", exec.submissions());
            h.put("workloadsCompleted", exec.completed());
            h.put("rejectedWorkloads", exec.rejected());
            h.put("hungWorkloads", exec.hung());
            h.put("commandsScanned", exec.commandsScanned());
            h.put("commandsExecuted", exec.commandsExecuted());
        }
        if (run.finalCounts() != null) {
            h.put("accesses", accesses(run.finalCounts()));
        }
        h.put("unhandledByOffset", unhandled(run.finalUnhandled()));
        run.probe().ifPresent(p -> {
            Map<String, Object> probe = new LinkedHashMap<>();
            AccessCounts during = p.atEnd().minus(p.atBegin());
            long wall = p.endNanos() - p.beginNanos();
            probe.put("hostWallSeconds", Math.round(wall / 1e3) / 1e6);
            probe.put("accesses", accesses(during));
            probe.put("serverSeconds", Math.round(during.totalNanos() / 1e3) / 1e6);
            probe.put("serverShare", wall <= 0 ? null : Math.round(during.totalNanos() * 10000.0 / wall) / 10000.0);
            h.put("probe", probe);
        });
        h.put("marks", marks(run.samples()));
        PlaneCapture capture = run.lastCapture();
        h.put("captures", run.captures());
        h.put("captureSeconds", run.captureNanos() / 1e9);
        if (capture != null) {
            Path png = dir.resolve("vgpu-" + id + ".png");
            BufferedImage image = new BufferedImage(capture.plane().width(), capture.plane().height(), BufferedImage.TYPE_INT_RGB);
            image.setRGB(0, 0, capture.plane().width(), capture.plane().height(), capture.pixels(), 0, capture.plane().width());
            ImageIO.write(image, "png", png.toFile());
            h.put("png", png.toString());
        } else {
            h.put("png", null);
        }
        return h;
    }

    /**
     * One entry per guest mark: its name and argument, and what happened on the host since the previous mark
     * (nothing for the first): wall time, accesses per region, BAR0 accesses per second, and
     * the shares of that wall time spent handling accesses in the device model, by this JVM's threads (server,
     * engine, software GPU, captures, JIT, GC), by the vfio-user server's threads alone, by the engine's threads
     * alone, by the QEMU process tree, and in the harness's captures.
     */
    static List<Map<String, Object>> marks(List<HostSample> samples) {
        List<Map<String, Object>> out = new ArrayList<>();
        HostSample previous = null;
        for (HostSample s : samples) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name());
            m.put("argument", s.argument());
            if (previous != null) {
                m.put("from", previous.name());
                long wall = s.nanos() - previous.nanos();
                AccessCounts during = s.counts().minus(previous.counts());
                m.put("sincePreviousSeconds", round(wall / 1e9, 3));
                m.put("accesses", accesses(during));
                if (wall > 0) {
                    m.put("bar0ReadsPerSecond", round(during.reads(DeviceLayout.BAR0) * 1e9 / wall, 1));
                    m.put("bar0WritesPerSecond", round(during.writes(DeviceLayout.BAR0) * 1e9 / wall, 1));
                    m.put("deviceModelShare", round((double) during.totalNanos() / wall, 4));
                    m.put("jvmCpuShare", share(s.jvmCpuNanos(), previous.jvmCpuNanos(), wall));
                    m.put("qemuCpuShare", share(s.qemuCpuNanos(), previous.qemuCpuNanos(), wall));
                    m.put("vfioUserThreadsCpuShare", round((double) (s.threads().vfioUserNanos() - previous.threads().vfioUserNanos()) / wall, 4));
                    m.put("engineThreadsCpuShare", round((double) (s.threads().engineNanos() - previous.threads().engineNanos()) / wall, 4));
                    m.put("captureShare", round((double) (s.captureNanos() - previous.captureNanos()) / wall, 4));
                }
            }
            out.add(m);
            previous = s;
        }
        return out;
    }

    private static Double share(long now, long before, long wall) {
        return now < 0 || before < 0 ? null : round((double) (now - before) / wall, 4);
    }

    private static double round(double value, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(value * scale) / scale;
    }

    /** The most frequent unhandled BAR0 offsets, most accesses first: {@code "0x70000": 12345}. */
    static Map<String, Long> unhandled(Map<Long, Long> perOffset) {
        Map<String, Long> m = new LinkedHashMap<>();
        perOffset.entrySet().stream().sorted(Map.Entry.<Long, Long>comparingByValue().reversed()
                .thenComparing(Map.Entry.comparingByKey())).limit(UNHANDLED_LISTED)
                .forEach(e -> m.put("0x" + Long.toHexString(e.getKey()), e.getValue()));
        return m;
    }

    private static Map<String, Object> accesses(AccessCounts c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bar0Reads", c.reads(DeviceLayout.BAR0));
        m.put("bar0Writes", c.writes(DeviceLayout.BAR0));
        m.put("bar2Reads", c.reads(DeviceLayout.BAR2));
        m.put("bar2Writes", c.writes(DeviceLayout.BAR2));
        m.put("configReads", c.reads(DeviceLayout.CONFIG));
        m.put("configWrites", c.writes(DeviceLayout.CONFIG));
        return m;
    }

    /** The run's essentials for the last line on stdout. */
    static String oneLine(QemuRun run) {
        GuestLog.Report guest = run.log().report();
        StringBuilder line = new StringBuilder();
        String panic = run.log().panic();
        if (panic != null) {
            line.append("the guest kernel panicked (").append(panic.strip()).append("); ");
        }
        line.append("i915 ").append(guest.i915Initialized() ? "initialized" : guest.gvtDetected() ? "detected the vGPU, not initialized" : "did not probe")
                .append(", ").append(guest.i915Errors().size()).append(" *ERROR*, ").append(guest.warnings().size()).append(" WARNING");
        if (guest.probeSeconds() != null) {
            line.append(", probe ").append(guest.probeSeconds()).append(" s guest time");
        }
        VgpuStats stats = run.finalStats();
        if (stats != null) {
            line.append("; MSIs ").append(stats.msiSignals()).append(", failsafe ").append(stats.failsafe());
        }
        return line.toString();
    }
}
