package dev.jgvt.cli;

import dev.jgvt.spi.GvtException;
import picocli.CommandLine;

/** Turns exceptions into one line on stderr and an exit code; stack traces only with JGVT_DEBUG set. */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    static final int FAILED = 1;
    static final int REJECTED = 2;

    @Override
    public int handleExecutionException(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        String name = commandLine.getCommandSpec().qualifiedName();
        if (e instanceof GvtException gvt) {
            commandLine.getErr().println(name + ": " + gvt.code() + ": " + gvt.getMessage());
        } else {
            commandLine.getErr().println(name + ": " + e);
        }
        if (System.getenv("JGVT_DEBUG") != null) {
            e.printStackTrace(commandLine.getErr());
        }
        return e instanceof GvtException gvt && isRejection(gvt) ? REJECTED : FAILED;
    }

    private static boolean isRejection(GvtException e) {
        return switch (e.code()) {
            case INVALID_ARGUMENT, OUT_OF_RANGE, NOT_FOUND, GUEST_ERROR, PROTOCOL_ERROR -> true;
            default -> false;
        };
    }
}
