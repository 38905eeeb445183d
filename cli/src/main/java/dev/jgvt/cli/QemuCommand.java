package dev.jgvt.cli;

import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.engine.VgpuStats;
import dev.jgvt.core.vgpu.HostGeometry;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gvt qemu}: boots an unmodified Linux guest in QEMU on a vGPU. Starts the engine and the kvm-vfio
 * vfio-user server for one vGPU (or uses a running {@code gvt serve} with {@code --connect}), builds an
 * initramfs from Debian's kernel (busybox, i915 and its dependencies, an /init that loads i915 and runs the
 * given commands), starts QEMU attached to the socket, streams the serial console, and when the guest
 * powers off (or the time limit, Ctrl-C or SIGTERM ends the run) stops QEMU, detaches the vGPU and writes
 * {@code summary.json}, {@code console.log} and the display's last picture into {@code --out}.
 */
@Command(name = "qemu", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Boot an unmodified Linux guest in QEMU on a vGPU.",
            "",
            "Serves a vGPU over vfio-user (as gvt serve does, or uses the one served at --connect), starts QEMU >= 10.1 "
                    + "with -device vfio-user-pci on it (--qemu, else qemu-system-x86_64 on the PATH if it has vfio-user-pci, "
                    + "else the QEMU of a Debian trixie root prepared once in the cache directory, run with chroot: needs root), "
                    + "boots Debian's kernel with an initramfs that loads i915 and runs COMMANDs (busybox sh command lines; "
                    + "'inroot CMD' runs CMD in the shared Debian root with --share-root), streams the guest's serial console, "
                    + "and writes summary.json, console.log and the display's last picture into --out.",
            ""
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the guest powered off and its commands exited 0",
            "1:a guest command failed, the guest did not power off in time, or QEMU or the engine failed",
            "2:bad options, or no QEMU and no guest kernel could be found or prepared",
            "130, 143:stopped by Ctrl-C or SIGTERM (QEMU is stopped and the summary written)"})
final class QemuCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--type", paramLabel = "T", defaultValue = "GVTg_V5_4", description = "vGPU type (default ${DEFAULT-VALUE}; see gvt types).")
    String type;

    @Option(names = "--connect", paramLabel = "SOCKET",
            description = "Boot against the vGPU a running gvt serve serves on SOCKET instead of starting an engine here.")
    Path connect;

    @Option(names = "--qemu", paramLabel = "PATH", description = "The QEMU to run (must have vfio-user-pci).")
    Path qemu;

    @Option(names = "--guest-root", paramLabel = "DIR",
            description = "Root directory holding the guest kernel (boot/vmlinuz-*, lib/modules/*) and busybox; default: the "
                    + "prepared Debian root in the cache directory (${JGVT_CACHE:-${XDG_CACHE_HOME:-~/.cache}/jgvt}/trixie-root).")
    Path guestRoot;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "300",
            description = "Stop the guest after S seconds of wall time (default ${DEFAULT-VALUE}).")
    double timeout;

    @Option(names = "--memory", paramLabel = "MIB", defaultValue = "512", description = "Guest RAM in MiB (default ${DEFAULT-VALUE}).")
    int memory;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "qemu-out",
            description = "Write summary.json, console.log and vgpu-<id>.png here (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--console", paramLabel = "FILE", description = "Write the guest's serial console to FILE instead of stdout.")
    Path consoleFile;

    @Option(names = "--append", paramLabel = "ARGS", defaultValue = "",
            description = "More kernel command-line arguments (e.g. video=HDMI-A-1:1024x768@60e).")
    String append;

    @Option(names = "--no-i915", description = "Do not load i915 (the device is only enumerated).")
    boolean noI915;

    @Option(names = "--share-root", description = "Share the guest root read-only over 9p (/mnt/root in the guest; inroot CMD runs CMD in it).")
    boolean shareRoot;

    @Option(names = "--script", paramLabel = "FILE", description = "A shell script the guest runs after the COMMANDs.")
    Path script;

    @Option(names = "--hypervisor", paramLabel = "ID", defaultValue = "kvm-vfio", description = "Plugin that serves the vGPU (default ${DEFAULT-VALUE}).")
    String hypervisor;

    @CommandLine.Mixin
    ScanDumpOptions scanDump = new ScanDumpOptions();

    @CommandLine.Mixin
    ScanPpgttOption scanPpgtt = new ScanPpgttOption();

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "The plugins directory (default: the distribution's).")
    Path pluginsDir;

    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "Shell command lines the guest runs in order after loading i915.")
    List<String> commands = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        if (!(timeout > 0 && timeout <= 86400)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--timeout must be in (0, 86400], not " + timeout);
        }
        if (memory < 128 || memory > 16384) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--memory must be 128..16384 MiB, not " + memory);
        }
        if (append.contains("'") || append.contains("\n")) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--append must not contain quotes or newlines");
        }
        List<String> guestCommands = new ArrayList<>(commands);
        if (script != null) {
            guestCommands.add(Files.readString(script)); // a missing file is one line and exit 2 (ErrorHandler)
        }
        Map<String, String> settings = new java.util.HashMap<>(scanDump.settings());
        settings.putAll(scanPpgtt.settings());
        Path socketToConnect = null;
        if (connect != null && !settings.isEmpty()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--scan-dump and --scan-ppgtt-batches act on the in-process "
                    + "server's scans; with --connect, give them to gvt serve");
        }
        if (connect != null) {
            socketToConnect = connect.toAbsolutePath().normalize();
            if (!Files.exists(socketToConnect)) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--connect " + socketToConnect + " does not exist (start gvt serve first)");
            }
        }
        OutputDirectory.create(out);
        GuestQemu vm = findQemu(stderr);
        GuestKernel kernel = GuestKernel.find(guestRoot == null ? GuestCache.root() : guestRoot.toAbsolutePath().normalize());

        Path runDir = Files.createTempDirectory("jgvt-qemu-");
        try {
            Files.createDirectories(runDir.resolve("sock"));
            Initramfs.write(kernel, new Initramfs.Options(!noI915, shareRoot, guestCommands), runDir.resolve("initramfs.cpio"));
            Path socket = socketToConnect != null ? socketToConnect : runDir.resolve("sock/vgpu.sock");
            // a big log buffer: a probe with many WARN traces must not push its beginning out of the dmesg dump;
            // no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can miss its ticks and
            // panic ("IO-APIC + timer doesn't work!"), as in any VM
            String cmdline = ("console=ttyS0 panic=-1 log_buf_len=8M no_timer_check " + append).strip();
            GuestQemu.Machine machine = new GuestQemu.Machine(kernel, runDir, socket, memory, cmdline, shareRoot);
            stdout.println("gvt qemu: kernel " + kernel.version() + ", QEMU " + vm.description());
            stdout.flush();
            if (socketToConnect != null) {
                return run(vm, machine, null, stdout, stderr);
            }
            GvtConfig config = new GvtConfig(PluginsCommand.pluginsDirectory(pluginsDir), settings);
            HostGeometry geometry = config.geometry();
            try (SimGpu gpu = new SimGpu(new SimGpuConfig((int) (geometry.ggttSize() >>> 12), 1L << 24, 1L << 30, true));
                    Gvt gvt = Gvt.start(config, gpu)) {
                Vgpu vgpu = gvt.vgpus().create(type);
                AttachedVgpu attached = gvt.attach(vgpu.id(), hypervisor, new AttachRequest.UnixSocket(socket));
                vgpu.accessMeter().timing(true);
                stdout.println("gvt qemu: vGPU " + vgpu.id() + " (" + vgpu.type().name() + ") served by plugin '" + attached.pluginId()
                        + "' on " + socket);
                stdout.flush();
                return run(vm, machine, new QemuRun.Host(gvt, vgpu), stdout, stderr);
            }
        } finally {
            deleteTree(runDir);
        }
    }

    private int run(GuestQemu vm, GuestQemu.Machine machine, QemuRun.Host host, PrintWriter stdout, PrintWriter stderr)
            throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "gvt-qemu-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            QemuRun run = new QemuRun(vm.command(machine), host, consoleFile, stdout, stderr);
            QemuRun.Outcome outcome = run.boot(stop, (long) (timeout * 1e9));
            QemuSummary.write(out, vm, machine, run, outcome);
            stdout.println("gvt qemu: " + outcome.describe() + "; " + QemuSummary.oneLine(run) + "; summary in " + out.resolve("summary.json"));
            stdout.flush();
            return outcome.exitCode();
        } finally {
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook is running
            }
        }
    }

    /** --qemu, else a QEMU with vfio-user-pci on the PATH, else the prepared root's QEMU (prepared now if needed). */
    private GuestQemu findQemu(PrintWriter progress) throws IOException, InterruptedException {
        if (qemu != null) {
            return GuestQemu.explicit(qemu);
        }
        GuestQemu onPath = GuestQemu.fromPath();
        if (onPath != null) {
            if (guestRoot == null) {
                GuestCache.prepare(progress); // the kernel still comes from the Debian root
            }
            return onPath;
        }
        if (guestRoot != null) {
            throw new GvtException(ErrorCode.NOT_FOUND, "no QEMU with vfio-user-pci on the PATH: give --qemu PATH "
                    + "(or drop --guest-root to use the prepared Debian root's QEMU)");
        }
        GuestCache.prepare(progress);
        if (!GuestCache.isRoot()) {
            throw new GvtException(ErrorCode.NOT_FOUND, "the prepared Debian root's QEMU runs with chroot, which needs root; "
                    + "run as root or give --qemu PATH (QEMU >= 10.1)");
        }
        return GuestQemu.chroot(GuestCache.root());
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a temporary file left behind is harmless
                }
            });
        } catch (IOException e) {
            // as above
        }
    }
}
