package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The assembled distribution (failsafe passes its directory as {@code jgvt.dist}) and a way to run it. */
final class Distribution {
    private Distribution() {}

    static Path home() {
        String dist = System.getProperty("jgvt.dist");
        assertThat(dist).as("system property jgvt.dist (set by failsafe)").isNotBlank();
        Path home = Path.of(dist);
        assertThat(home.resolve("bin/gvt")).as("the distribution's launcher").isExecutable();
        return home;
    }

    record Result(int exitCode, String out, String err) {}

    /** Starts {@code bin/gvt args...} as a separate process with piped output (the caller stops and reads it). */
    static Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(home().resolve("bin/gvt").toString());
        command.addAll(List.of(args));
        return new ProcessBuilder(command).start();
    }

    /** Starts {@code bin/gvt args...} as a separate process writing its output to {@code out} and {@code err}. */
    static Process start(Path out, Path err, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(home().resolve("bin/gvt").toString());
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }

    /** Stops processes a test started: SIGTERM, then SIGKILL for one still running after 30 s. */
    static void stopAll(List<Process> processes) throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    /** Waits up to 60 s until {@code out} contains {@code text}; fails with both outputs if the process exits first. */
    static void awaitLine(Process p, Path out, Path err, String text) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.readString(out, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                throw new AssertionError("the process exited " + p.exitValue() + ": " + Files.readString(out) + Files.readString(err));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + text + "' in: " + Files.readString(out) + Files.readString(err));
    }

    /** A {@code gvt daemon} started by {@link #startDaemon}: its process and its metrics port. */
    record Daemon(Process process, int metricsPort) {}

    /**
     * Starts {@code gvt daemon} in {@code dir} (runtime dir {@code run}, config in {@code dir/conf}, output in
     * {@code dir/daemon.out|err}, metrics on a free port), waits until it is ready and starts a GVTg_V5_4 vGPU for
     * each of {@code uuids}. The caller stops the process; if starting fails, it is killed here.
     */
    static Daemon startDaemon(Path dir, Path run, List<String> uuids) throws IOException, InterruptedException {
        Path out = dir.resolve("daemon.out");
        Path err = dir.resolve("daemon.err");
        Process daemon = start(out, err, "daemon", "--runtime-dir", run.toString(), "--config-dir", dir.resolve("conf").toString(),
                "--metrics-port", "0");
        try {
            awaitLine(daemon, out, err, "Ready.");
            Matcher port = Pattern.compile("metrics: http://127.0.0.1:(\\d+)/metrics").matcher(Files.readString(out));
            assertThat(port.find()).as("the daemon's metrics line").isTrue();
            for (String u : uuids) {
                CliRun started = CliRun.of("start", "--uuid", u, "--type", "GVTg_V5_4", "--runtime-dir", run.toString());
                assertThat(started.exitCode()).as(started.err()).isZero();
            }
            return new Daemon(daemon, Integer.parseInt(port.group(1)));
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            daemon.destroyForcibly();
            throw e;
        }
    }

    /** Runs {@code bin/gvt args...} as a separate process, like a user would. */
    static Result gvt(String... args) throws IOException, InterruptedException {
        return gvtWithEnvironment(java.util.Map.of(), args);
    }

    /** As {@link #gvt}, with {@code environment} added to the process's environment. */
    static Result gvtWithEnvironment(java.util.Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        Path home = home();
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/gvt").toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile("gvt-out", ".txt");
        Path err = Files.createTempFile("gvt-err", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("gvt " + String.join(" ", args) + " did not finish within 120 s");
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
