package dev.jgvt.cli;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The QEMU {@code gvt qemu} starts, and its command line. Either a QEMU on this host ({@code --qemu PATH} or
 * {@code qemu-system-x86_64} on the PATH) that has {@code vfio-user-pci} (QEMU >= 10.1), or the QEMU of the
 * prepared Debian trixie root, run with {@code chroot} inside a private mount namespace ({@code unshare
 * --mount}) where /proc, /dev and the run directory are bind-mounted: the mounts vanish with the namespace
 * when QEMU exits, however it exits.
 */
final class GuestQemu {
    static final String BINARY = "qemu-system-x86_64";
    /** Where the run directory appears inside the root in chroot mode (the prepare script creates it). */
    static final String CHROOT_RUN = "/run/jgvt";

    /** The root to chroot into, or null for a host QEMU. */
    private final Path chrootRoot;
    private final String binary;

    private GuestQemu(Path chrootRoot, String binary) {
        this.chrootRoot = chrootRoot;
        this.binary = requireNonNull(binary, "binary is null");
    }

    /** A QEMU on this host. */
    static GuestQemu host(Path binary) {
        return new GuestQemu(null, binary.toString());
    }

    /** The QEMU of a prepared root, run in it with chroot. */
    static GuestQemu chroot(Path root) {
        return new GuestQemu(root, "/usr/bin/" + BINARY);
    }

    /** A QEMU named by --qemu, checked for vfio-user-pci; bad usage when it is not one. */
    static GuestQemu explicit(Path binary) {
        if (!Files.isExecutable(binary)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--qemu " + binary + " is not an executable file");
        }
        if (!hasVfioUser(binary)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--qemu " + binary
                    + " has no vfio-user-pci device (QEMU >= 10.1 is needed: " + binary + " -device help)");
        }
        return host(binary);
    }

    /** {@value #BINARY} from the PATH when it has vfio-user-pci, or null. */
    static GuestQemu fromPath() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, BINARY);
            if (Files.isExecutable(candidate) && hasVfioUser(candidate)) {
                return host(candidate);
            }
        }
        return null;
    }

    /** Whether {@code binary -device help} lists vfio-user-pci. */
    static boolean hasVfioUser(Path binary) {
        try {
            Process p = new ProcessBuilder(binary.toString(), "-device", "help").redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return new String(out, StandardCharsets.UTF_8).contains("\"vfio-user-pci\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** How this QEMU is run, for messages and the summary. */
    String description() {
        return chrootRoot == null ? binary : binary + " in the Debian root " + chrootRoot + " (chroot)";
    }

    boolean chrooted() {
        return chrootRoot != null;
    }

    /**
     * The guest machine of one run.
     *
     * @param kernel the guest kernel
     * @param runDir this run's directory (initramfs.cpio; sock/ for the socket)
     * @param socket the vfio-user socket (inside runDir/sock, or a served socket elsewhere)
     * @param memoryMiB guest RAM
     * @param append the kernel command line
     * @param shareRoot share {@code kernel.root()} read-only over 9p as {@code jgvtroot}
     */
    record Machine(GuestKernel kernel, Path runDir, Path socket, int memoryMiB, String append, boolean shareRoot) {
        Machine {
            requireNonNull(kernel, "kernel is null");
            requireNonNull(runDir, "runDir is null");
            requireNonNull(socket, "socket is null");
            requireNonNull(append, "append is null");
        }
    }

    /** The process command line for {@code machine}. */
    List<String> command(Machine machine) {
        List<String> command = new ArrayList<>();
        Path sockDir = machine.socket().getParent();
        boolean ownSocketDir = sockDir.equals(machine.runDir().resolve("sock"));
        String kernel;
        String initrd;
        String socket;
        String share;
        if (chrootRoot == null) {
            kernel = machine.kernel().vmlinuz().toString();
            initrd = machine.runDir().resolve("initramfs.cpio").toString();
            socket = machine.socket().toString();
            share = machine.kernel().root().toString();
        } else {
            kernel = "/" + chrootRoot.relativize(machine.kernel().vmlinuz());
            initrd = CHROOT_RUN + "/initramfs.cpio";
            socket = CHROOT_RUN + "/sock/" + machine.socket().getFileName();
            share = "/";
            command.addAll(List.of("unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                    "set -e; r=$1; run=$2; sock=$3; shift 3; mount --bind /proc \"$r/proc\"; mount --bind /dev \"$r/dev\"; "
                            + "mount --bind \"$run\" \"$r" + CHROOT_RUN + "\"; "
                            + "if [ -n \"$sock\" ]; then mount --bind \"$sock\" \"$r" + CHROOT_RUN + "/sock\"; fi; "
                            + "exec chroot \"$r\" \"$@\"",
                    "jgvt-qemu", chrootRoot.toString(), machine.runDir().toString(), ownSocketDir ? "" : sockDir.toString()));
        }
        command.add(binary);
        command.addAll(List.of("-accel", "tcg", "-machine", "q35,memory-backend=mem",
                "-object", "memory-backend-memfd,id=mem,size=" + machine.memoryMiB() + "M,share=on",
                "-m", machine.memoryMiB() + "M", "-smp", "1", "-nodefaults", "-vga", "none", "-display", "none", "-no-reboot",
                "-kernel", kernel, "-initrd", initrd, "-append", machine.append(),
                "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
                // x-msg-timeout: the aperture is trapped (decision 0011), so fbcon clearing a 1920x1200 framebuffer
                // queues millions of posted BAR2 writes, and a BAR read behind them may wait longer than QEMU's
                // default 5 s for its reply under a loaded TCG host; a read that times out returns garbage to i915
                "-device", "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"" + socket
                        + "\",\"type\":\"unix\"},\"addr\":\"03.0\",\"x-msg-timeout\":60000}"));
        if (machine.shareRoot()) {
            command.addAll(List.of("-virtfs", "local,path=" + share + ",mount_tag=jgvtroot,security_model=none,readonly=on"));
        }
        return command;
    }

    /**
     * The prepared root's QEMU: runs the distribution's {@code guest/prepare-guest-root} (which returns at once
     * for a root prepared before), printing its progress lines.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when the root cannot be prepared here (one line says why)
     */
    static void prepare(Path script, Path cache, PrintWriter progress) throws IOException, InterruptedException {
        if (!Files.isExecutable(script)) {
            throw new GvtException(ErrorCode.NOT_FOUND, "no " + script + " to prepare a guest root with");
        }
        ProcessBuilder builder = new ProcessBuilder(script.toString()).redirectErrorStream(true);
        builder.environment().put("JGVT_CACHE", cache.toString());
        Process p = builder.start();
        p.getOutputStream().close();
        String last = "";
        try (var reader = p.inputReader(StandardCharsets.UTF_8)) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                last = line;
                progress.println(line);
                progress.flush();
            }
        }
        int code = p.waitFor();
        if (code != 0) {
            throw new GvtException(ErrorCode.NOT_FOUND, "no QEMU with vfio-user-pci on the PATH and the guest root could not be "
                    + "prepared (" + last.replaceFirst("^jgvt guest root: ", "") + "); give --qemu PATH, or --guest-root DIR");
        }
    }
}
