package dev.jgvt.cli;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.PlaneCapture;
import dev.jgvt.core.engine.VgpuStats;
import dev.jgvt.core.vgpu.AccessCounts;
import dev.jgvt.core.vgpu.Vgpu;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One QEMU process of {@code gvt qemu}: started, its serial console streamed (to stdout or a file) and fed
 * to a {@link GuestLog}, its stderr forwarded as {@code qemu: } lines, stopped when the guest powers off, the
 * time runs out or the user stops {@code gvt qemu}. With a {@link Host} (the engine runs here) it also takes
 * the vGPU's access counters (and CPU times) at the guest's marks, captures the display after new MSIs, and detaches
 * the vGPU once QEMU is gone.
 */
final class QemuRun {
    /** The engine and vGPU of a run that serves the vGPU itself. */
    record Host(Gvt gvt, Vgpu vgpu) {
        Host {
            requireNonNull(gvt, "gvt is null");
            requireNonNull(vgpu, "vgpu is null");
        }
    }

    /** How a run ended. */
    enum End {
        /** /init reported its exit status and QEMU exited. */
        POWERED_OFF,
        /** QEMU exited before the guest reported (crashed, killed, refused its options). */
        QEMU_EXITED,
        /** --timeout ran out; QEMU was stopped. */
        TIMEOUT,
        /** Ctrl-C or SIGTERM; QEMU was stopped. */
        STOPPED
    }

    /** The end of a run, QEMU's exit code, the guest's status (or null) and the wall time. */
    record Outcome(End end, int qemuExit, Integer guestExit, double seconds) {
        int exitCode() {
            return switch (end) {
                case POWERED_OFF -> guestExit == 0 ? 0 : 1;
                case QEMU_EXITED, TIMEOUT -> 1;
                case STOPPED -> 130;
            };
        }

        String describe() {
            return switch (end) {
                case POWERED_OFF -> "the guest powered off after %.1f s, exit status %d".formatted(seconds, guestExit);
                case QEMU_EXITED -> "QEMU exited with %d after %.1f s before the guest powered off".formatted(qemuExit, seconds);
                case TIMEOUT -> "the guest did not power off within %.1f s; QEMU stopped".formatted(seconds);
                case STOPPED -> "stopped after %.1f s; QEMU stopped".formatted(seconds);
            };
        }
    }

    /** The host's view of the guest's probe: counters and host time at the insmod marks. */
    record Probe(AccessCounts atBegin, long beginNanos, AccessCounts atEnd, long endNanos) {}

    private final List<String> command;
    private final Host host;
    private final Path consoleFile;
    private final PrintWriter stdout;
    private final PrintWriter stderr;
    private final GuestLog log;
    private final List<String> qemuErrors = new ArrayList<>();
    private volatile AccessCounts beginCounts;
    private volatile long beginNanos;
    private volatile AccessCounts endCounts;
    private volatile long endNanos;
    private final List<HostSample> samples = new ArrayList<>();
    private volatile ProcessHandle qemuHandle;
    private long lastMsis = -1;
    private long lastCaptureNanos;
    private PlaneCapture lastCapture;
    private long captures;
    private volatile long captureNanos;
    private VgpuStats finalStats;
    private AccessCounts finalCounts;
    private java.util.Map<Long, Long> finalUnhandled = java.util.Map.of();

    QemuRun(List<String> command, Host host, Path consoleFile, PrintWriter stdout, PrintWriter stderr) {
        this.command = List.copyOf(command);
        this.host = host;
        this.consoleFile = consoleFile;
        this.stdout = requireNonNull(stdout, "stdout is null");
        this.stderr = requireNonNull(stderr, "stderr is null");
        this.log = new GuestLog(this::mark);
    }

    private void mark(String name, String argument) {
        if (host == null) {
            return;
        }
        HostSample sample = new HostSample(name, argument, System.nanoTime(), host.vgpu().accessCounts(),
                HostSample.currentJvmCpuNanos(), HostSample.treeCpuNanos(qemuHandle), captureNanos,
                HostSample.ThreadCpu.now());
        synchronized (samples) {
            samples.add(sample);
        }
        if (name.equals("insmod-i915-begin")) {
            beginCounts = host.vgpu().accessCounts();
            beginNanos = System.nanoTime();
        } else if (name.equals("insmod-i915-end")) {
            endCounts = host.vgpu().accessCounts();
            endNanos = System.nanoTime();
        }
    }

    /** Starts QEMU and waits until it ends; stops it on timeout or when {@code stop} opens. */
    Outcome boot(CountDownLatch stop, long timeoutNanos) throws IOException, InterruptedException {
        long started = System.nanoTime();
        Process qemu = new ProcessBuilder(command).start();
        qemuHandle = qemu.toHandle();
        stdout.println("gvt qemu: QEMU started, pid " + qemu.pid());
        stdout.flush();
        Writer sink = consoleFile == null ? stdout : Files.newBufferedWriter(consoleFile, StandardCharsets.UTF_8);
        Thread console = Thread.ofPlatform().name("gvt-qemu-console").daemon().start(() -> pump(qemu.inputReader(StandardCharsets.UTF_8), sink));
        Thread errors = Thread.ofPlatform().name("gvt-qemu-stderr").daemon().start(() -> forwardErrors(qemu.errorReader(StandardCharsets.UTF_8)));
        End end = null;
        try {
            while (!qemu.waitFor(100, TimeUnit.MILLISECONDS)) {
                pollDisplay();
                if (stop.getCount() == 0) {
                    end = End.STOPPED;
                } else if (System.nanoTime() - started > timeoutNanos) {
                    end = End.TIMEOUT;
                }
                if (end != null) {
                    stopQemu(qemu);
                    break;
                }
            }
        } finally {
            if (qemu.isAlive()) {
                stopQemu(qemu);
            }
            console.join(5000);
            errors.join(5000);
            if (consoleFile != null) {
                sink.close();
            } else {
                stdout.flush();
            }
            finish();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        int qemuExit = qemu.exitValue();
        Integer guestExit = log.exitStatus();
        if (end == null) {
            end = guestExit != null ? End.POWERED_OFF : End.QEMU_EXITED;
        }
        return new Outcome(end, qemuExit, guestExit, seconds);
    }

    private static void stopQemu(Process qemu) throws InterruptedException {
        qemu.destroy(); // SIGTERM: QEMU closes its vfio-user connection and exits
        if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
            qemu.destroyForcibly();
            qemu.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void pump(BufferedReader in, Writer sink) {
        try (in) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                log.accept(line);
                synchronized (sink) {
                    sink.write(line);
                    sink.write('\n');
                    sink.flush();
                }
            }
        } catch (IOException e) {
            // QEMU is gone
        }
    }

    private void forwardErrors(BufferedReader in) {
        try (in) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                synchronized (qemuErrors) {
                    qemuErrors.add(line);
                }
                stderr.println("qemu: " + line);
                stderr.flush();
            }
        } catch (IOException e) {
            // QEMU is gone
        }
    }

    private void pollDisplay() {
        pollDisplay(false);
    }

    private void pollDisplay(boolean force) {
        if (host == null) {
            return;
        }
        Optional<VgpuStats> stats = host.gvt().stats(host.vgpu().id());
        long now = System.nanoTime();
        // after each new MSI, and every half second: a guest that draws and then idles raises no MSI
        if (!force && (stats.isEmpty() || stats.get().msiSignals() == lastMsis && now - lastCaptureNanos < 500_000_000L)) {
            return;
        }
        lastMsis = stats.map(VgpuStats::msiSignals).orElse(lastMsis);
        lastCaptureNanos = now;
        long started = System.nanoTime();
        host.gvt().capturePrimaryPlane(host.vgpu().id()).filter(c -> c.unmappedPages() == 0).ifPresent(c -> {
            lastCapture = c;
            captures++;
            captureNanos += System.nanoTime() - started;
        });
    }

    /** QEMU is gone: the last look at the vGPU, then detach (the server stops listening). */
    private void finish() {
        if (host == null) {
            return;
        }
        pollDisplay(true); // the picture as it is at exit
        finalStats = host.gvt().stats(host.vgpu().id()).orElse(null);
        finalCounts = host.vgpu().accessCounts();
        finalUnhandled = host.vgpu().unhandledByOffset();
        host.gvt().detach(host.vgpu().id());
    }

    GuestLog log() {
        return log;
    }

    List<String> qemuErrors() {
        synchronized (qemuErrors) {
            return List.copyOf(qemuErrors);
        }
    }

    List<String> command() {
        return command;
    }

    /** The engine's side, or empty with --connect. */
    Optional<Host> host() {
        return Optional.ofNullable(host);
    }

    /** The vGPU's statistics after QEMU ended (null without a host). */
    VgpuStats finalStats() {
        return finalStats;
    }

    /** The run's accesses to BAR0 offsets the register table does not know, per offset (empty without a host). */
    java.util.Map<Long, Long> finalUnhandled() {
        return finalUnhandled;
    }

    /** All accesses of the run (null without a host). */
    AccessCounts finalCounts() {
        return finalCounts;
    }

    /** The counters at the insmod marks; empty unless both marks arrived. */
    Optional<Probe> probe() {
        AccessCounts begin = beginCounts;
        AccessCounts end = endCounts;
        return begin == null || end == null ? Optional.empty() : Optional.of(new Probe(begin, beginNanos, end, endNanos));
    }

    /** The host's counters at every guest mark, in arrival order (empty without a host). */
    List<HostSample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    PlaneCapture lastCapture() {
        return lastCapture;
    }

    /** Wall time spent in the captures counted by {@link #captures()}, nanoseconds. */
    long captureNanos() {
        return captureNanos;
    }

    long captures() {
        return captures;
    }
}
