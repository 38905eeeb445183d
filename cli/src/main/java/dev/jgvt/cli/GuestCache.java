package dev.jgvt.cli;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * The cache directory {@code gvt qemu} keeps its Debian trixie root in:
 * {@code ${JGVT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jgvt}/trixie-root}, prepared by the distribution's
 * {@code guest/prepare-guest-root} (the same script {@code .ci/run} runs).
 */
final class GuestCache {
    private GuestCache() {}

    static Path directory() {
        String cache = System.getenv("JGVT_CACHE");
        if (cache != null && !cache.isBlank()) {
            return Path.of(cache).toAbsolutePath();
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "jgvt").toAbsolutePath();
        }
        return Path.of(System.getProperty("user.home"), ".cache", "jgvt");
    }

    static Path root() {
        return directory().resolve("trixie-root");
    }

    /** Runs the prepare script (at once when the root is ready), printing its progress lines on {@code progress}. */
    static void prepare(PrintWriter progress) throws IOException, InterruptedException {
        String home = System.getProperty(PluginsCommand.HOME_PROPERTY);
        if (home == null || home.isBlank()) {
            throw new GvtException(ErrorCode.NOT_FOUND, "cannot prepare the guest root: " + PluginsCommand.HOME_PROPERTY
                    + " is not set (the bin/gvt launcher sets it); give --guest-root DIR");
        }
        GuestQemu.prepare(Path.of(home, "guest", "prepare-guest-root"), directory(), progress);
    }

    /** Whether this process runs as root (chroot and mount namespaces need it). */
    static boolean isRoot() {
        return uid() == 0;
    }

    private static long uid() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).strip().split("\\s+")[1]); // effective uid
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
