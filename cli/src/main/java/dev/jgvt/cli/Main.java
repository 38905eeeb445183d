package dev.jgvt.cli;

import java.util.List;
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
            DaemonCommand.class,
            VgpuVerbs.Define.class,
            VgpuVerbs.Undefine.class,
            VgpuVerbs.Modify.class,
            VgpuVerbs.Start.class,
            VgpuVerbs.Stop.class,
            VgpuVerbs.ListVgpus.class,
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
        commandLine.setExecutionStrategy(Main::execute);
        return commandLine;
    }

    /**
     * Runs the last command of a parsed line, except that an unknown command is bad usage even when {@code --help}
     * or {@code --version} is on the line too (picocli would honour the help option and ignore the unknown word):
     * {@code gvt nosuch --help} is exit 2 with one line naming {@code nosuch}, as {@code gvt nosuch} is.
     */
    private static int execute(CommandLine.ParseResult parseResult) {
        if (!parseResult.hasSubcommand() && !parseResult.unmatched().isEmpty()) {
            CommandLine top = parseResult.commandSpec().commandLine();
            return unknownCommand(top, parseResult.unmatched().getFirst());
        }
        return new CommandLine.RunLast().execute(parseResult);
    }

    private static int unknownCommand(CommandLine top, String word) {
        List<String> suggestions = new CommandLine.UnmatchedArgumentException(top, List.of(word)).getSuggestions();
        top.getErr().println("gvt: unknown command '" + word + "'"
                + (suggestions.isEmpty() ? "" : " (did you mean " + String.join(" or ", suggestions) + "?)") + "; see gvt --help");
        top.getErr().flush();
        return ErrorHandler.REJECTED;
    }

    /** A command line that does not parse: one line naming what was wrong and where the help is, exit 2. */
    static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        String name = command.getCommandSpec().qualifiedName();
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && command.getParent() == null
                && !unmatched.getUnmatched().isEmpty() && !unmatched.getUnmatched().getFirst().startsWith("-")) {
            return unknownCommand(command, unmatched.getUnmatched().getFirst());
        }
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
