package dev.jgvt.cli;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The initramfs {@code gvt qemu} boots: busybox, i915 and every module it needs (resolved through
 * modules.dep), optionally the 9p modules for the shared root, a small {@code /init} (resource
 * {@code guest-init.sh}) and the run's test commands as {@code /jgvt/cmd/NN} scripts. Written as an
 * uncompressed newc cpio archive, which the kernel unpacks as it is; xz-compressed modules are stored
 * decompressed (see {@link #stored}).
 */
final class Initramfs {
    /** The modules the shared root needs: virtio transport, 9p file system. */
    static final List<String> SHARE_MODULES = List.of("9pnet_virtio", "9p");

    private Initramfs() {}

    /**
     * The guest-side options of one run.
     *
     * @param loadI915 whether /init loads i915 (off: the device is enumerated but no driver binds it)
     * @param shareRoot whether /init mounts the 9p share {@code jgvtroot} at /mnt/root
     * @param commands shell command lines /init runs in order once i915 is loaded
     */
    record Options(boolean loadI915, boolean shareRoot, List<String> commands) {
        Options {
            commands = List.copyOf(requireNonNull(commands, "commands is null"));
        }
    }

    /** Writes the initramfs for {@code kernel} with {@code options} to {@code target}. */
    static void write(GuestKernel kernel, Options options, Path target) throws IOException {
        Path busybox = busybox(kernel.root());
        List<String> i915 = kernel.withDependencies("i915");
        List<String> share = new java.util.ArrayList<>();
        if (options.shareRoot()) {
            for (String name : SHARE_MODULES) {
                for (String path : kernel.withDependencies(name)) {
                    if (!share.contains(path) && !i915.contains(path)) {
                        share.add(path);
                    }
                }
            }
        }
        List<String> i915Names = i915.stream().map(Initramfs::stored).toList();
        StringBuilder config = new StringBuilder();
        config.append("DEPS='").append(String.join(" ", i915Names.subList(0, i915Names.size() - 1))).append("'\n");
        config.append("I915='").append(i915Names.getLast()).append("'\n");
        config.append("LOAD_I915=").append(options.loadI915() ? 1 : 0).append('\n');
        config.append("SHARE_ROOT=").append(options.shareRoot() ? 1 : 0).append('\n');
        config.append("SHARE_MODULES='").append(String.join(" ", share.stream().map(Initramfs::stored).toList())).append("'\n");

        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(target), 1 << 16)) {
            Cpio cpio = new Cpio(file);
            for (String dir : List.of("bin", "dev", "proc", "sys", "tmp", "mnt", "mnt/root", "jgvt", "jgvt/cmd", "lib", "lib/modules")) {
                cpio.directory(dir);
            }
            cpio.device("dev/console", 020600, 5, 1);
            cpio.file("bin/busybox", 0100755, Files.readAllBytes(busybox));
            cpio.symlink("bin/sh", "busybox");
            cpio.file("init", 0100755, resource("guest-init.sh"));
            cpio.file("bin/inroot", 0100755, resource("guest-inroot.sh"));
            cpio.file("jgvt/config", 0100644, config.toString().getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < options.commands().size(); i++) {
                cpio.file("jgvt/cmd/%02d".formatted(i + 1), 0100644, (options.commands().get(i) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            Set<String> dirs = new HashSet<>();
            for (String module : concat(i915, share)) {
                String parent = "lib/modules";
                for (String part : module.substring(0, module.lastIndexOf('/')).split("/")) {
                    parent += "/" + part;
                    if (dirs.add(parent)) {
                        cpio.directory(parent);
                    }
                }
                cpio.file("lib/modules/" + stored(module), 0100644, moduleBytes(busybox, kernel.modules().resolve(module)));
            }
            cpio.trailer();
        }
    }

    /**
     * Where a module is stored in the initramfs: xz-compressed modules are decompressed on the host, so the
     * guest's insmod (busybox, which would decompress in user space, slowly under TCG) only loads them and the
     * insmod-to-Initialized time is the kernel's work.
     */
    static String stored(String module) {
        return module.endsWith(".ko.xz") ? module.substring(0, module.length() - 3) : module;
    }

    private static byte[] moduleBytes(Path busybox, Path module) throws IOException {
        if (!module.toString().endsWith(".ko.xz")) {
            return Files.readAllBytes(module);
        }
        // the root's busybox is static: it runs on the host as well
        Process unxz = new ProcessBuilder(busybox.toString(), "unxz", "-c", module.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        unxz.getOutputStream().close();
        byte[] bytes = unxz.getInputStream().readAllBytes();
        try {
            if (unxz.waitFor() != 0 || bytes.length == 0) {
                throw new GvtException(ErrorCode.INTERNAL, "cannot decompress " + module + " with " + busybox + " unxz");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while decompressing " + module, e);
        }
        return bytes;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static Path busybox(Path root) {
        for (String candidate : List.of("usr/bin/busybox", "bin/busybox")) {
            Path path = root.resolve(candidate);
            if (Files.isRegularFile(path)) {
                return path;
            }
        }
        throw new GvtException(ErrorCode.NOT_FOUND, "no busybox in " + root + " (install busybox-static there)");
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = Initramfs.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        }
    }

    /** A newc ("070701") cpio writer: entries are written as given, parents first. */
    static final class Cpio {
        private final OutputStream out;
        private long written;
        private int inode = 1;

        Cpio(OutputStream out) {
            this.out = out;
        }

        void directory(String name) throws IOException {
            entry(name, 040755, 2, 0, 0, new byte[0]);
        }

        void file(String name, int mode, byte[] data) throws IOException {
            entry(name, mode, 1, 0, 0, data);
        }

        void symlink(String name, String target) throws IOException {
            entry(name, 0120777, 1, 0, 0, target.getBytes(StandardCharsets.UTF_8));
        }

        void device(String name, int mode, int major, int minor) throws IOException {
            entry(name, mode, 1, major, minor, new byte[0]);
        }

        void trailer() throws IOException {
            entry("TRAILER!!!", 0, 1, 0, 0, new byte[0]);
            out.flush();
        }

        private void entry(String name, int mode, int links, int rdevMajor, int rdevMinor, byte[] data) throws IOException {
            byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
            int ino = name.equals("TRAILER!!!") ? 0 : inode++;
            String header = "070701" + hex(ino) + hex(mode) + hex(0) + hex(0) + hex(links) + hex(0) + hex(data.length)
                    + hex(0) + hex(0) + hex(rdevMajor) + hex(rdevMinor) + hex(nameBytes.length + 1) + hex(0);
            put(header.getBytes(StandardCharsets.US_ASCII));
            put(nameBytes);
            put(new byte[] {0});
            pad();
            put(data);
            pad();
        }

        private static String hex(long value) {
            return "%08x".formatted(value);
        }

        private void put(byte[] bytes) throws IOException {
            out.write(bytes);
            written += bytes.length;
        }

        private void pad() throws IOException {
            while ((written & 3) != 0) {
                out.write(0);
                written++;
            }
        }
    }
}
