package dev.jgvt.cli;

import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import picocli.CommandLine;

/** Turns exceptions into one line on stderr and an exit code; stack traces only with JGVT_DEBUG set. */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    static final int FAILED = 1;
    static final int REJECTED = 2;

    @Override
    public int handleExecutionException(Exception thrown, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        Exception e = thrown instanceof UncheckedIOException unchecked ? unchecked.getCause() : thrown;
        String name = commandLine.getCommandSpec().qualifiedName();
        int code = FAILED;
        if (e instanceof GvtException gvt) {
            commandLine.getErr().println(name + ": " + gvt.code() + ": " + gvt.getMessage());
            code = isRejection(gvt) ? REJECTED : FAILED;
        } else if (e instanceof NoSuchFileException missing) {
            commandLine.getErr().println(name + ": no such file: " + missing.getFile());
            code = REJECTED;
        } else if (e instanceof AccessDeniedException denied) {
            commandLine.getErr().println(name + ": permission denied: " + denied.getFile());
            code = REJECTED;
        } else if (e instanceof FileSystemException fs) {
            String reason = fs.getReason() != null ? fs.getReason() : switch (fs) {
                case FileAlreadyExistsException ignored -> "already exists";
                case NotDirectoryException ignored -> "not a directory";
                case DirectoryNotEmptyException ignored -> "directory not empty";
                default -> fs.getClass().getSimpleName();
            };
            commandLine.getErr().println(name + ": " + fs.getFile() + ": " + reason);
            code = REJECTED;
        } else if (e instanceof IOException io) {
            // the files a command reads or writes are the ones the user named
            commandLine.getErr().println(name + ": " + io.getMessage());
            code = REJECTED;
        } else {
            commandLine.getErr().println(name + ": " + e);
        }
        if (System.getenv("JGVT_DEBUG") != null) {
            e.printStackTrace(commandLine.getErr());
        }
        return code;
    }

    private static boolean isRejection(GvtException e) {
        return switch (e.code()) {
            case INVALID_ARGUMENT, OUT_OF_RANGE, NOT_FOUND, GUEST_ERROR, PROTOCOL_ERROR -> true;
            default -> false;
        };
    }
}
