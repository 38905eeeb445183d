package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.HostContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** The {@link HostContext} the engine gives one plugin: its settings and, later, a work directory. */
record EngineHostContext(Map<String, String> configuration, Optional<Path> workDirectory) implements HostContext {
    EngineHostContext {
        configuration = Map.copyOf(requireNonNull(configuration, "configuration is null"));
        requireNonNull(workDirectory, "workDirectory is null");
    }
}
