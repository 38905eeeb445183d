package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Map;
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
