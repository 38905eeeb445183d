package dev.jgvt.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.plugin.PluginStatus;
import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HypervisorPlugin.Availability;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gvt plugins}: every plugin jar found, with its state, capabilities and availability or error. */
@Command(
        name = "plugins",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "List the hypervisor plugins of a plugins directory: id, version, state, capabilities, and why a"
                + " plugin is unavailable or failed. Plugins that fail to load are listed; they do not fail the command.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:the listing worked (failed plugins are listed with their error)",
            "1:the listing itself failed",
            "2:bad usage, or the plugins directory does not exist or is not a directory"
        })
final class PluginsCommand implements Callable<Integer> {
    static final String HOME_PROPERTY = "jgvt.home";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print a JSON array of objects (id, version, state, capabilities, available, reason, error, file).")
    boolean json;

    @Option(names = "--plugins-dir", paramLabel = "DIR",
            description = "The plugins directory. Default: the distribution's plugins/ directory (${sys:" + HOME_PROPERTY
                    + ":-<" + HOME_PROPERTY + ">}/plugins).")
    Path pluginsDir;

    @Override
    public Integer call() throws JsonProcessingException {
        List<PluginStatus> statuses;
        try (Gvt gvt = Gvt.start(GvtConfig.of(pluginsDirectory(pluginsDir)))) {
            statuses = gvt.plugins();
        }
        PrintWriter out = spec.commandLine().getOut();
        List<Row> rows = statuses.stream().map(Row::of).toList();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
        } else {
            printTable(out, rows);
        }
        out.flush();
        return 0;
    }

    /** {@code override} if given, else the distribution's plugins/ directory; a typed error without either. */
    static Path pluginsDirectory(Path override) {
        if (override != null) {
            return override;
        }
        String home = System.getProperty(HOME_PROPERTY);
        if (home == null || home.isBlank()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT,
                    "no plugins directory: give --plugins-dir DIR (" + HOME_PROPERTY + " is not set; the bin/gvt launcher sets it)");
        }
        return Path.of(home, "plugins");
    }

    private static void printTable(PrintWriter out, List<Row> rows) {
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[] {"ID", "VERSION", "STATE", "CAPABILITIES", "STATUS"});
        for (Row row : rows) {
            lines.add(new String[] {
                orDash(row.id()), orDash(row.version()), row.state(),
                row.capabilities().isEmpty() ? "-" : String.join(",", row.capabilities()), row.status()
            });
        }
        int[] widths = new int[4];
        for (String[] line : lines) {
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], line[i].length());
            }
        }
        for (String[] line : lines) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < widths.length; i++) {
                text.append(line[i]).append(" ".repeat(widths[i] - line[i].length() + 2));
            }
            out.println(text.append(line[4]));
        }
    }

    private static String orDash(String text) {
        return text == null ? "-" : text;
    }

    /**
     * One plugin as printed. Absent values are JSON nulls: {@code available}/{@code reason} exist only
     * for started plugins, {@code error} only for failed ones.
     */
    record Row(String id, String version, String state, List<String> capabilities, Boolean available, String reason,
            String error, String file) {
        static Row of(PluginStatus status) {
            return new Row(
                    status.id().orElse(null),
                    status.version().orElse(null),
                    status.state().name(),
                    status.capabilities().stream().map(Capability::name).sorted().toList(),
                    status.availability().map(Availability::available).orElse(null),
                    status.availability().map(Availability::reason).orElse(null),
                    status.failure().map(PluginStatus.Failure::message).orElse(null),
                    status.file().toString());
        }

        /** The table's STATUS column: the availability reason, the error, or the state in words. */
        String status() {
            if (error != null) {
                return error;
            }
            if (reason != null) {
                return reason;
            }
            return state.toLowerCase(java.util.Locale.ROOT);
        }
    }
}
