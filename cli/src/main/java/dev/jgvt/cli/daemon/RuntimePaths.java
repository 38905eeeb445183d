package dev.jgvt.cli.daemon;

import com.sun.security.auth.module.UnixSystem;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.nio.file.Path;

/**
 * The default directories: as root {@code /run/jgvt} (sockets) and {@code /etc/jgvt/vgpus} (definitions); otherwise
 * {@code $XDG_RUNTIME_DIR/jgvt} and {@code $XDG_CONFIG_HOME/jgvt/vgpus} ({@code ~/.config} when unset).
 */
public final class RuntimePaths {
    private RuntimePaths() {}

    static boolean root() {
        return new UnixSystem().getUid() == 0;
    }

    public static Path runtimeDir(Path given) {
        if (given != null) {
            return given.toAbsolutePath().normalize();
        }
        if (root()) {
            return Path.of("/run/jgvt");
        }
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg == null || xdg.isBlank()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "XDG_RUNTIME_DIR is not set: give --runtime-dir");
        }
        return Path.of(xdg, "jgvt");
    }

    public static Path configDir(Path given) {
        if (given != null) {
            return given.toAbsolutePath().normalize();
        }
        if (root()) {
            return Path.of("/etc/jgvt/vgpus");
        }
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path base = xdg == null || xdg.isBlank() ? Path.of(System.getProperty("user.home"), ".config") : Path.of(xdg);
        return base.resolve("jgvt").resolve("vgpus");
    }
}
