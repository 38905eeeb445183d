package dev.jgvt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgvt.cli.daemon.ControlClient;
import dev.jgvt.cli.daemon.RuntimePaths;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * mdevctl's verbs against a running {@code gvt daemon}, with mdevctl's option names: {@code define}, {@code undefine},
 * {@code modify}, {@code start}, {@code stop}, {@code list}. Each sends one request on the control socket.
 */
final class VgpuVerbs {
    private VgpuVerbs() {}

    static final String[] EXIT_CODES = {"0:done", "1:refused by the service (no instances left, in use, permission) or no service running",
        "2:bad options, an unknown UUID or type"};

    /** {@code --runtime-dir}, shared by the verbs. */
    static final class Target {
        @Option(names = "--runtime-dir", paramLabel = "DIR",
                description = "The service's runtime directory (default /run/jgvt as root, else $XDG_RUNTIME_DIR/jgvt).")
        Path runtimeDir;

        JsonNode call(ObjectNode request) {
            return ControlClient.call(RuntimePaths.runtimeDir(runtimeDir), request);
        }
    }

    static UUID uuid(String text) {
        try {
            return UUID.fromString(text);
        } catch (IllegalArgumentException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "'" + text + "' is not a UUID");
        }
    }

    @Command(name = "define", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Define a persistent vGPU (one JSON file in the service's --config-dir); prints its UUID.",
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:defined", "1:the UUID is defined already, or the service refused or is not running",
                "2:bad options, an unknown type"})
    static final class Define implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        Target target = new Target();
        @Option(names = {"-u", "--uuid"}, paramLabel = "UUID", description = "The vGPU's UUID (default: a new random one).")
        String uuid;
        @Option(names = {"-t", "--type"}, paramLabel = "T", required = true, description = "The vGPU type (see gvt types).")
        String type;
        @Option(names = {"-a", "--auto"}, description = "Start it when the service starts.")
        boolean auto;

        @Override
        public Integer call() {
            UUID id = uuid == null ? UUID.randomUUID() : uuid(uuid);
            ObjectNode request = ControlClient.request("define").put("uuid", id.toString()).put("type", type).put("auto", auto);
            target.call(request);
            spec.commandLine().getOut().println(id);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "undefine", mixinStandardHelpOptions = true,
            description = "Remove a vGPU's definition (a started vGPU keeps running until stopped).",
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:undefined", "1:the service refused or is not running",
                "2:bad options, an unknown UUID"})
    static final class Undefine implements Callable<Integer> {
        @CommandLine.Mixin
        Target target = new Target();
        @Option(names = {"-u", "--uuid"}, paramLabel = "UUID", required = true, description = "The vGPU's UUID.")
        String uuid;

        @Override
        public Integer call() {
            target.call(ControlClient.request("undefine").put("uuid", uuid(uuid).toString()));
            return 0;
        }
    }

    @Command(name = "modify", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Change a vGPU's definition; a started vGPU sees the change when it is next started.",
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:modified", "1:the service refused or is not running",
                "2:bad options, an unknown UUID or type"})
    static final class Modify implements Callable<Integer> {
        @CommandLine.Mixin
        Target target = new Target();
        @Option(names = {"-u", "--uuid"}, paramLabel = "UUID", required = true, description = "The vGPU's UUID.")
        String uuid;
        @Option(names = {"-t", "--type"}, paramLabel = "T", description = "A new type.")
        String type;
        @CommandLine.ArgGroup(exclusive = true)
        StartMode mode;

        static final class StartMode {
            @Option(names = {"-a", "--auto"}, required = true, description = "Start it with the service.")
            boolean auto;
            @Option(names = {"-m", "--manual"}, required = true, description = "Start it only with gvt start.")
            boolean manual;
        }

        @Override
        public Integer call() {
            if (type == null && mode == null) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "nothing to modify: give --type, --auto or --manual");
            }
            ObjectNode request = ControlClient.request("modify").put("uuid", uuid(uuid).toString());
            if (type != null) {
                request.put("type", type);
            }
            if (mode != null) {
                request.put("auto", mode.auto);
            }
            target.call(request);
            return 0;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Start a defined vGPU (or, with --type, a transient one): it is served on <runtime-dir>/<uuid>.sock.",
                "Prints the socket path."},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:started", "1:no instances of the type left, started already, or the "
                + "service refused or is not running", "2:bad options, an unknown UUID or type"})
    static final class Start implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        Target target = new Target();
        @Option(names = {"-u", "--uuid"}, paramLabel = "UUID", required = true, description = "The vGPU's UUID.")
        String uuid;
        @Option(names = {"-t", "--type"}, paramLabel = "T", description = "Start a transient vGPU of this type (no definition needed).")
        String type;

        @Override
        public Integer call() {
            ObjectNode request = ControlClient.request("start").put("uuid", uuid(uuid).toString());
            if (type != null) {
                request.put("type", type);
            }
            JsonNode started = target.call(request);
            spec.commandLine().getOut().println(started.path("socket").asText()
                    + (started.has("vncPort") ? " vnc=127.0.0.1:" + started.get("vncPort").asInt() : ""));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Stop a started vGPU. Refused while a VMM is connected, unless --force (the VMM then loses the device).",
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:stopped", "1:a VMM is connected (use --force), or the service "
                + "refused or is not running", "2:bad options, a vGPU that is not started"})
    static final class Stop implements Callable<Integer> {
        @CommandLine.Mixin
        Target target = new Target();
        @Option(names = {"-u", "--uuid"}, paramLabel = "UUID", required = true, description = "The vGPU's UUID.")
        String uuid;
        @Option(names = {"-f", "--force"}, description = "Stop it even while a VMM is connected.")
        boolean force;

        @Override
        public Integer call() {
            target.call(ControlClient.request("stop").put("uuid", uuid(uuid).toString()).put("force", force));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"List the started vGPUs, or with --defined every definition.",
                "A line: UUID TYPE auto|manual [active] [connected] [socket] [vnc=HOST:PORT]."},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:listed", "1:no service running or refused", "2:bad options"})
    static final class ListVgpus implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        Target target = new Target();
        @Option(names = {"-d", "--defined"}, description = "List the definitions instead of the started vGPUs.")
        boolean defined;
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode list = target.call(ControlClient.request("list").put("defined", defined));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(list));
            } else {
                for (JsonNode e : list) {
                    StringBuilder line = new StringBuilder(e.path("uuid").asText()).append(' ').append(e.path("type").asText())
                            .append(' ').append(e.path("auto").asBoolean() ? "auto" : "manual");
                    if (defined && e.path("active").asBoolean()) {
                        line.append(" active");
                    }
                    if (!e.path("defined").asBoolean()) {
                        line.append(" transient");
                    }
                    if (e.path("connected").asBoolean()) {
                        line.append(" connected");
                    }
                    if (e.hasNonNull("socket")) {
                        line.append(' ').append(e.get("socket").asText());
                    }
                    if (e.hasNonNull("vncPort")) {
                        line.append(" vnc=127.0.0.1:").append(e.get("vncPort").asInt());
                    }
                    out.println(line);
                }
            }
            out.flush();
            return 0;
        }
    }
}
