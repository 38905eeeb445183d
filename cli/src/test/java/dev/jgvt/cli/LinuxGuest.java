package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs {@code bin/gvt qemu} of the distribution for the Linux-guest tests, and decides whether a test that
 * cannot get a QEMU here is skipped (outside CI, with the reason printed) or fails (under {@code CI=true}).
 */
final class LinuxGuest {
    /** Generous: preparing the Debian root the first time takes minutes; a boot under TCG about 15 s. */
    static final long PROCESS_TIMEOUT_SECONDS = 900;

    private LinuxGuest() {}

    /** A finished {@code gvt qemu}: its exit code, stdout, stderr, and the summary and console of its --out. */
    record Boot(int exitCode, String out, String err, JsonNode summary, String console) {
        JsonNode guest() {
            return summary.path("guest");
        }

        JsonNode host() {
            return summary.path("host");
        }

        String describe() {
            return "exit " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    static boolean underCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Starts {@code bin/gvt qemu args...} with stdout and stderr to files in {@code dir}. */
    static Process start(Path dir, String name, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Distribution.home().resolve("bin/gvt").toString());
        command.add("qemu");
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile()).start();
    }

    /** Waits for a started {@code gvt qemu} and reads what it left in {@code out}. */
    static Boot finish(Process p, Path dir, String name, Path out) throws Exception {
        if (!p.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
            p.destroyForcibly();
            throw new AssertionError("gvt qemu did not finish within " + PROCESS_TIMEOUT_SECONDS + " s: " + read(dir.resolve(name + ".out"))
                    + read(dir.resolve(name + ".err")));
        }
        String stdout = read(dir.resolve(name + ".out"));
        String stderr = read(dir.resolve(name + ".err"));
        skipOrFailWithoutQemu(p.exitValue(), stderr);
        Path summary = out.resolve("summary.json");
        assertThat(summary).as("summary.json of gvt qemu: exit %d\n%s\n%s", p.exitValue(), stdout, stderr).exists();
        return new Boot(p.exitValue(), stdout, stderr, new ObjectMapper().readTree(summary.toFile()), read(out.resolve("console.log")));
    }

    /** Runs {@code gvt qemu --out OUT args...} to its end. */
    static Boot boot(Path dir, String name, String... args) throws Exception {
        Path out = dir.resolve(name);
        List<String> all = new ArrayList<>(List.of("--out", out.toString(), "--console", dir.resolve(name + ".console").toString()));
        all.addAll(List.of(args));
        Boot boot = finish(start(dir, name, all.toArray(String[]::new)), dir, name, out);
        return boot;
    }

    /**
     * gvt qemu says in one line, exit 2, when it has no QEMU and cannot prepare one (not root, no debootstrap,
     * no mirror): outside CI the test is skipped with that line, under CI=true it fails.
     */
    static void skipOrFailWithoutQemu(int exitCode, String stderr) {
        boolean noQemu = exitCode == 2 && (stderr.contains("could not be prepared") || stderr.contains("needs root")
                || stderr.contains("no QEMU with vfio-user-pci"));
        if (!noQemu) {
            return;
        }
        String reason = "no QEMU with vfio-user-pci could be found or prepared here: " + stderr.strip();
        if (underCi()) {
            throw new AssertionError("CI=true: " + reason);
        }
        System.out.println("LinuxGuestIT skipped: " + reason);
        Assumptions.abort(reason);
    }

    static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
}
