package dev.jgvt.spi;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What the core offers a plugin when it is opened. Methods have defaults so that new services can be
 * added in a minor SPI version without breaking plugins, and so that tests implement only what they use.
 */
public interface HostContext {
    /** The SPI version the core implements. */
    default SpiVersion spiVersion() {
        return SpiVersion.current();
    }

    /**
     * The plugin's configuration: the {@code plugin.<id>.*} keys of the engine configuration, with that
     * prefix removed. Never null; empty when nothing is configured.
     */
    default Map<String, String> configuration() {
        return Map.of();
    }

    /** A directory the plugin may use for sockets and state files, if the engine has one. */
    default Optional<Path> workDirectory() {
        return Optional.empty();
    }
}
