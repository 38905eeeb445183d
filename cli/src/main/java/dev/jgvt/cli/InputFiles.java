package dev.jgvt.cli;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the files a user names on the command line, failing with a message that names the file. */
final class InputFiles {
    private InputFiles() {}

    static byte[] read(Path file) {
        if (Files.isDirectory(file)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, file + " is a directory, not a file");
        }
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "no such file: " + file, e);
        } catch (IOException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
