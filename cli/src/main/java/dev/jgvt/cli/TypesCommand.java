package dev.jgvt.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jgvt.cli.daemon.ControlClient;
import dev.jgvt.cli.daemon.RuntimePaths;
import dev.jgvt.core.vgpu.HostGeometry;
import dev.jgvt.core.vgpu.ResourceAllocator;
import dev.jgvt.spi.GvtException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gvt types}: the vGPU types a host of the given geometry offers, with GVT-g's available-instance
 * arithmetic for a host without live vGPUs — or, when a service ({@code gvt daemon}) answers, the instances
 * available on its GPU now.
 */
@Command(name = "types", mixinStandardHelpOptions = true,
        description = "List the vGPU types (GVTg_V5_*) a host GPU of the given geometry offers.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the types were listed", "1:the service of --runtime-dir does not answer or refuses",
            "2:a bad size or count, or a geometry no host GPU has"})
final class TypesCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--ggtt", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "GGTT address space (default 4G). Sizes: bytes or a number with K, M, G or T.")
    long ggtt = HostGeometry.defaults().ggttSize();

    @Option(names = "--aperture", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Aperture (BAR2) size (default 1G).")
    long aperture = HostGeometry.defaults().apertureSize();

    @Option(names = "--fences", paramLabel = "N", description = "Fence registers (default 32).")
    int fences = HostGeometry.defaults().fenceCount();

    @Option(names = "--runtime-dir", paramLabel = "DIR",
            description = "Ask the service (gvt daemon) of this runtime directory for the instances available now (default: "
                    + "the default runtime directory's service when one answers and no geometry option is given).")
    Path runtimeDir;

    /** One row of the output; also the JSON shape. */
    record Row(String name, long lowGmMiB, long highGmMiB, int fences, int weight, String resolution,
            long availableInstances, String description) {}

    @Override
    public void run() {
        HostGeometry geometry;
        try {
            geometry = new HostGeometry(ggtt, aperture, fences);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        List<Row> rows = fromService().orElseGet(() -> rows(geometry));
        if (json) {
            try {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot write JSON", e);
            }
        } else {
            out.printf("%-10s %8s %9s %6s %6s %10s %9s%n", "NAME", "LOW_MiB", "HIGH_MiB", "FENCES", "WEIGHT",
                    "RESOLUTION", "AVAILABLE");
            for (Row row : rows) {
                out.printf("%-10s %8d %9d %6d %6d %10s %9d%n", row.name(), row.lowGmMiB(), row.highGmMiB(),
                        row.fences(), row.weight(), row.resolution(), row.availableInstances());
            }
        }
        out.flush();
    }

    /**
     * The types with the instances available now from a running service: the one of {@code --runtime-dir} (which
     * must answer), else the default runtime directory's if it answers and no geometry option was given.
     */
    private Optional<List<Row>> fromService() {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        boolean explicit = runtimeDir != null;
        if (!explicit && (parsed.hasMatchedOption("--ggtt") || parsed.hasMatchedOption("--aperture") || parsed.hasMatchedOption("--fences"))) {
            return Optional.empty();
        }
        JsonNode types;
        try {
            types = ControlClient.call(RuntimePaths.runtimeDir(runtimeDir), ControlClient.request("types"));
        } catch (GvtException e) {
            if (explicit) {
                throw e;
            }
            return Optional.empty(); // no service here: the arithmetic for a host without vGPUs
        }
        List<Row> rows = new ArrayList<>();
        for (JsonNode t : types) {
            rows.add(new Row(t.path("name").asText(), t.path("lowGmMiB").asLong(), t.path("highGmMiB").asLong(), t.path("fences").asInt(),
                    t.path("weight").asInt(), t.path("resolution").asText(), t.path("availableInstances").asLong(),
                    t.path("description").asText()));
        }
        return Optional.of(rows);
    }

    static List<Row> rows(HostGeometry geometry) {
        ResourceAllocator allocator = new ResourceAllocator(geometry);
        return allocator.offeredTypes().stream()
                .map(t -> new Row(t.name(), t.lowGm() >> 20, t.highGm() >> 20, t.fences(), t.weight(),
                        t.resolution().toString(), allocator.availableInstances(t), t.description()))
                .toList();
    }

    /** Parses {@code 4096}, {@code 256K}, {@code 256M}, {@code 1G} (binary units, optional {@code iB}/{@code B}). */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        private static final Pattern SIZE = Pattern.compile("(\\d{1,19})\\s*([KMGT]?)(?:I?B)?");

        @Override
        public Long convert(String value) {
            Matcher m = SIZE.matcher(value.trim().toUpperCase(Locale.ROOT));
            if (!m.matches()) {
                throw new CommandLine.TypeConversionException(
                        "'" + value + "' is not a size (expected bytes or a number with K, M, G or T, e.g. 256M)");
            }
            int shift = switch (m.group(2)) {
                case "K" -> 10;
                case "M" -> 20;
                case "G" -> 30;
                case "T" -> 40;
                default -> 0;
            };
            long number;
            try {
                number = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is too large");
            }
            if (number <= 0 || Long.numberOfLeadingZeros(number) <= shift) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a positive size that fits in 63 bits");
            }
            return number << shift;
        }
    }
}
