package dev.jgvt.cli;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The {@code --out} directory a command writes to: created when missing, rejected with its name when it cannot be one. */
final class OutputDirectory {
    private OutputDirectory() {}

    /** Rejects a {@code dir} that exists as something else, before the command starts (it creates the directory when it writes). */
    static void check(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--out " + dir + " exists and is not a directory");
        }
    }

    static void create(Path dir) throws IOException {
        check(dir);
        Files.createDirectories(dir);
    }

    /** Removes {@code dir} if nothing was written to it (best effort: it is only tidying up). */
    static void removeIfEmpty(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // not empty, or not ours to remove any more
        }
    }
}
