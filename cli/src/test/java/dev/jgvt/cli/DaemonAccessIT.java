package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who may use {@code gvt daemon}: a client run as {@code nobody} (through util-linux's {@code setpriv}) is refused by
 * the kernel (the runtime directory is 0750), and — when the sockets are made reachable by mistake — by the service
 * itself, which checks SO_PEERCRED; with {@code --group nogroup}, nobody (whose group that is) is admitted and the
 * vGPU sockets belong to that group. Needs root (to run as another user) and setpriv; CI has both.
 */
final class DaemonAccessIT {
    private static final String U = "00000000-0000-4000-8000-0000000000a1";

    private Path base;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void rootAndSetpriv() throws IOException {
        boolean root = "root".equals(System.getProperty("user.name"));
        boolean setpriv = Files.isExecutable(Path.of("/usr/bin/setpriv"));
        if (!root || !setpriv) {
            assertThat(System.getenv("CI")).as("CI runs as root with util-linux's setpriv").isNotEqualTo("true");
            System.out.println("SKIPPED DaemonAccessIT: needs root and /usr/bin/setpriv");
        }
        assumeTrue(root && setpriv, "needs root and setpriv");
        // a directory any user can traverse (JUnit's @TempDir is 0700)
        base = Files.createTempDirectory(Path.of("/tmp"), "jgvt-access-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        Distribution.stopAll(processes);
        if (base != null) {
            try (Stream<Path> files = Files.walk(base)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private Process daemon(String name, String... extra) throws Exception {
        List<String> command = new ArrayList<>(List.of(Distribution.home().resolve("bin/gvt").toString(), "daemon", "--runtime-dir",
                base.resolve("run").toString(), "--config-dir", base.resolve("conf").toString()));
        command.addAll(List.of(extra));
        Path out = base.resolve(name + ".out");
        Path err = base.resolve(name + ".err");
        Process d = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        processes.add(d);
        Distribution.awaitLine(d, out, err, "Ready.");
        return d;
    }

    /** {@code bin/gvt args...} as user nobody, group nogroup, no supplementary groups. */
    private Distribution.Result asNobody(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                Distribution.home().resolve("bin/gvt").toString()));
        command.addAll(List.of(args));
        Path out = base.resolve("nobody.out");
        Path err = base.resolve("nobody.err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Distribution.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void anUnprivilegedCallerIsRefusedByTheKernelAndByTheServiceAndAGroupMemberIsAdmitted() throws Exception {
        Path run = base.resolve("run");
        Process d = daemon("d1");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(run))).isEqualTo("rwxr-x---");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(run.resolve("control.sock")))).isEqualTo("rw-rw----");

        Distribution.Result kernel = asNobody("start", "--uuid", U, "--type", "GVTg_V5_4", "--runtime-dir", run.toString());
        assertThat(kernel.exitCode()).as(kernel.out() + kernel.err()).isEqualTo(1);
        assertThat(kernel.err().strip()).isEqualTo("gvt start: PERMISSION_DENIED: permission denied: " + run
                + " (the service admits root, its own user and members of its --group)");

        // the sockets made reachable by mistake: the service itself refuses
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(run.resolve("control.sock"), PosixFilePermissions.fromString("rw-rw-rw-"));
        Distribution.Result service = asNobody("start", "--uuid", U, "--type", "GVTg_V5_4", "--runtime-dir", run.toString());
        assertThat(service.exitCode()).as(service.out() + service.err()).isEqualTo(1);
        assertThat(service.err().strip()).isEqualTo("gvt start: PERMISSION_DENIED: user nobody may not use this service (allowed: root)");
        assertThat(CliRun.of("list", "--runtime-dir", run.toString()).out()).as("nothing was started").isEmpty();
        d.destroy();
        assertThat(d.waitFor(30, TimeUnit.SECONDS)).isTrue();

        // --group nogroup: nobody's group may use the service and its vGPU sockets
        daemon("d2", "--group", "nogroup");
        assertThat(Files.getAttribute(run.resolve("control.sock"), "posix:group").toString()).isEqualTo("nogroup");
        Distribution.Result member = asNobody("start", "--uuid", U, "--type", "GVTg_V5_4", "--runtime-dir", run.toString());
        assertThat(member.exitCode()).as(member.out() + member.err()).isZero();
        Path socket = run.resolve(U + ".sock");
        assertThat(member.out().strip()).isEqualTo(socket.toString());
        assertThat(Files.getAttribute(socket, "posix:group").toString()).isEqualTo("nogroup");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
        Distribution.Result stop = asNobody("stop", "--uuid", U, "--runtime-dir", run.toString());
        assertThat(stop.exitCode()).as(stop.out() + stop.err()).isZero();
    }
}
