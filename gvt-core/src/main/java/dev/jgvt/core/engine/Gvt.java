package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.ProvisionException;
import com.google.inject.Stage;
import dev.jgvt.core.plugin.PluginRegistry;
import dev.jgvt.core.plugin.PluginStatus;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HypervisorPlugin;
import jakarta.inject.Inject;
import java.util.List;

/**
 * The engine: what the CLI and embedders use. Created with {@link #start}; {@link #close} stops and
 * unloads every plugin.
 */
public final class Gvt implements AutoCloseable {
    private final PluginRegistry plugins;

    @Inject
    Gvt(PluginRegistry plugins) {
        this.plugins = requireNonNull(plugins, "plugins is null");
    }

    /**
     * Starts an engine: loads and starts the plugins of {@code config.pluginsDirectory()}. Plugins that
     * fail are reported by {@link #plugins()}, they do not fail the engine.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when the plugins directory does not exist,
     *     {@link ErrorCode#INVALID_ARGUMENT} when it is not a directory
     */
    public static Gvt start(GvtConfig config) {
        requireNonNull(config, "config is null");
        try {
            return Guice.createInjector(Stage.PRODUCTION, new EngineModule(config)).getInstance(Gvt.class);
        } catch (CreationException | ProvisionException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof GvtException gvt) {
                    throw gvt;
                }
            }
            throw new GvtException(ErrorCode.INTERNAL, "the engine could not be wired: " + e.getMessage(), e);
        }
    }

    /** Every plugin jar found, with its state, capabilities, availability or failure. */
    public List<PluginStatus> plugins() {
        return plugins.statuses();
    }

    /**
     * The started plugin with this id.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when there is none (the message says why)
     */
    public HypervisorPlugin plugin(String id) {
        return plugins.plugin(id);
    }

    @Override
    public void close() {
        plugins.close();
    }
}
