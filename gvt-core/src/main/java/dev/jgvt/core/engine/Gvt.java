package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.ProvisionException;
import com.google.inject.Stage;
import com.google.inject.spi.Message;
import dev.jgvt.core.plugin.PluginRegistry;
import dev.jgvt.core.plugin.PluginStatus;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HypervisorPlugin;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Collection;
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
        } catch (CreationException e) {
            throw unwrap(e, e.getErrorMessages());
        } catch (ProvisionException e) {
            throw unwrap(e, e.getErrorMessages());
        }
    }

    /** What failed while wiring, as the typed exception it was (Guice wraps what providers throw). */
    private static GvtException unwrap(RuntimeException wiring, Collection<Message> messages) {
        List<Throwable> causes = new ArrayList<>();
        causes.add(wiring);
        messages.forEach(message -> causes.add(message.getCause()));
        for (Throwable cause : causes) {
            for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof GvtException gvt) {
                    return gvt;
                }
            }
        }
        return new GvtException(ErrorCode.INTERNAL, "the engine could not be wired: " + wiring.getMessage(), wiring);
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
