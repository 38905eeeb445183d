package dev.jgvt.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code gvt} command. Exit codes: 0 success, 1 a failure of the operation (reported on stderr),
 * 2 bad usage or input rejected (reported on stderr with what was wrong).
 */
@Command(
        name = "gvt",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "jgvt: mediated GPU virtualization with hypervisor plugins.",
        subcommands = {
            VersionCommand.class,
            PluginsCommand.class,
            TypesCommand.class,
            DemoCommand.class,
            ServeCommand.class,
            QemuCommand.class,
            VmmCommand.class,
            DecodeCommand.class,
            ScanCommand.class,
            BenchCommand.class,
            CommandLine.HelpCommand.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the operation failed", "2:bad usage or rejected input"})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The configured command line (tests redirect its output streams). */
    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setExecutionExceptionHandler(new ErrorHandler());
        commandLine.setParameterExceptionHandler(Main::usageError);
        return commandLine;
    }

    /** A command line that does not parse: one line naming what was wrong and where the help is, exit 2. */
    static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        String name = command.getCommandSpec().qualifiedName();
        String message = String.valueOf(e.getMessage()).strip().replaceAll("\\s*\\R\\s*", " ").replaceFirst("\\.$", "");
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
            message += " (did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?)";
        }
        command.getErr().println(name + ": " + message + "; see " + name + " --help");
        if (System.getenv("JGVT_DEBUG") != null) {
            e.printStackTrace(command.getErr());
        }
        return ErrorHandler.REJECTED;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
