package dev.jgvt.core.engine;

import dev.jgvt.core.gtt.PpgttConfig;
import dev.jgvt.core.vgpu.HostGeometry;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import dev.jgvt.core.cmd.ScanDump;
import java.util.TreeMap;

/**
 * The engine's configuration.
 *
 * @param pluginsDirectory where the plugin jars are
 * @param settings engine settings; keys {@code plugin.<id>.<key>} are handed to plugin {@code <id>} as
 *     {@code <key>} through its {@code HostContext.configuration()}
 */
public record GvtConfig(Path pluginsDirectory, Map<String, String> settings) {
    public GvtConfig {
        requireNonNull(pluginsDirectory, "pluginsDirectory is null");
        settings = Map.copyOf(requireNonNull(settings, "settings is null"));
    }

    /** A configuration with only a plugins directory. */
    public static GvtConfig of(Path pluginsDirectory) {
        return new GvtConfig(pluginsDirectory, Map.of());
    }

    /** Setting key: the host GGTT size in bytes. */
    public static final String GGTT_BYTES = "gpu.ggtt-bytes";
    /** Setting key: the host aperture size in bytes. */
    public static final String APERTURE_BYTES = "gpu.aperture-bytes";
    /** Setting key: the host's number of fence registers. */
    public static final String FENCES = "gpu.fences";

    /**
     * The host GPU's geometry: {@link HostGeometry#defaults()} with any of {@link #GGTT_BYTES},
     * {@link #APERTURE_BYTES} and {@link #FENCES} overridden.
     *
     * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} naming the setting for a value that is not a
     *     number or a geometry the host cannot have
     */
    public HostGeometry geometry() {
        HostGeometry defaults = HostGeometry.defaults();
        long ggtt = number(GGTT_BYTES, defaults.ggttSize());
        long aperture = number(APERTURE_BYTES, defaults.apertureSize());
        long fences = number(FENCES, defaults.fenceCount());
        try {
            return new HostGeometry(ggtt, aperture, Math.toIntExact(fences));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "bad host GPU geometry (" + GGTT_BYTES + "=" + ggtt + ", "
                    + APERTURE_BYTES + "=" + aperture + ", " + FENCES + "=" + fences + "): " + e.getMessage(), e);
        }
    }

    private long number(String key, long fallback) {
        String value = settings.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "setting " + key + " is not a number: '" + value + "'", e);
        }
    }

    /** Setting key: {@code strict} (every guest page-table write trapped) or {@code relaxed} (out-of-sync pages). */
    public static final String PPGTT_MODE = "gpu.ppgtt-mode";

    /** The shadow-PPGTT mode from {@link #PPGTT_MODE}; strict by default. */
    public PpgttConfig ppgtt() {
        String mode = settings.getOrDefault(PPGTT_MODE, "strict").trim();
        return switch (mode) {
            case "strict" -> PpgttConfig.STRICT;
            case "relaxed" -> PpgttConfig.RELAXED;
            default -> throw new GvtException(ErrorCode.INVALID_ARGUMENT,
                    "setting " + PPGTT_MODE + " must be strict or relaxed, not '" + mode + "'");
        };
    }

    /** Setting key: a file to dump every scanned ring slice and batch buffer into ({@link ScanDump}); none by default. */
    public static final String SCAN_DUMP = "scan.dump";
    /** Setting key: the most bytes the scan dump writes (default 64 MiB). */
    public static final String SCAN_DUMP_MAX_BYTES = "scan.dump-max-bytes";
    /** Setting key: the most workloads the scan dump writes (default 100000). */
    public static final String SCAN_DUMP_MAX_WORKLOADS = "scan.dump-max-workloads";

    /**
     * The scan dump of {@link #SCAN_DUMP}, created now (the file must not exist), or empty when not set.
     *
     * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} naming the setting or the path that is wrong
     */
    public Optional<ScanDump> scanDump() {
        String file = settings.get(SCAN_DUMP);
        if (file == null) {
            return Optional.empty();
        }
        long maxBytes = number(SCAN_DUMP_MAX_BYTES, 64L << 20);
        long maxWorkloads = number(SCAN_DUMP_MAX_WORKLOADS, 100_000);
        if (maxWorkloads > Integer.MAX_VALUE) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "setting " + SCAN_DUMP_MAX_WORKLOADS + " is too large: "
                    + maxWorkloads);
        }
        try {
            return Optional.of(ScanDump.create(Path.of(file), maxBytes, (int) maxWorkloads));
        } catch (java.nio.file.InvalidPathException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "setting " + SCAN_DUMP + ": '" + file
                    + "' is not a path: " + e.getMessage(), e);
        }
    }

    /**
     * Setting key: the engines whose non-privileged (PPGTT) batch buffers get the diagnostic scan (GVT-g's
     * {@code scan_nonprivbb}): {@code all}, {@code none} (the default) or a comma-separated list of {@code rcs},
     * {@code bcs}, {@code vcs}, {@code vcs2}, {@code vecs}.
     */
    public static final String SCAN_PPGTT_BATCHES = "scan.ppgtt-batches";

    /**
     * The engines of {@link #SCAN_PPGTT_BATCHES}; empty by default.
     *
     * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} naming the setting and the word that is not an engine
     */
    public Set<Engine> scanPpgttBatches() {
        return engines(SCAN_PPGTT_BATCHES, settings.getOrDefault(SCAN_PPGTT_BATCHES, "none"));
    }

    /** Parses {@code all}, {@code none} or a comma-separated list of engine names (any case) for setting {@code key}. */
    public static Set<Engine> engines(String key, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("all")) {
            return EnumSet.allOf(Engine.class);
        }
        EnumSet<Engine> result = EnumSet.noneOf(Engine.class);
        if (v.equals("none")) {
            return result;
        }
        for (String word : v.split(",", -1)) {
            String name = word.trim();
            Engine engine = null;
            for (Engine e : Engine.values()) {
                if (e.name().toLowerCase(Locale.ROOT).equals(name)) {
                    engine = e;
                }
            }
            if (engine == null) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, key + ": '" + name
                        + "' is not an engine (all, none, or a list of rcs, bcs, vcs, vcs2, vecs)");
            }
            result.add(engine);
        }
        return result;
    }

    /** The settings of one plugin: {@code plugin.<id>.*} with that prefix removed. */
    public Map<String, String> pluginSettings(String pluginId) {
        String prefix = "plugin." + requireNonNull(pluginId, "pluginId is null") + ".";
        Map<String, String> result = new TreeMap<>();
        settings.forEach((key, value) -> {
            if (key.startsWith(prefix) && key.length() > prefix.length()) {
                result.put(key.substring(prefix.length()), value);
            }
        });
        return Map.copyOf(result);
    }
}
