package dev.jgvt.core.plugin;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.SpiVersion;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import org.pf4j.DefaultPluginManager;
import org.pf4j.JarPluginLoader;
import org.pf4j.PluginClassLoader;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginLoader;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PF4J's plugin manager, adapted to jgvt: jar plugins only, host-first class loading for the shared
 * packages, extensions created through {@link PluginInjectors}, the SPI version as system version (so
 * {@code Plugin-Requires} is checked), and one jar loaded at a time so that one bad jar never stops the
 * others. Not thread-safe (neither is PF4J's manager): {@link PluginRegistry} serializes access.
 */
final class GvtPluginManager extends DefaultPluginManager {
    /** Manifest entry of in-tree plugins: the exact SPI version they were built against. */
    static final String SPI_VERSION_ATTRIBUTE = "Jgvt-Spi-Version";

    private static final Logger log = LoggerFactory.getLogger(GvtPluginManager.class);

    private final PluginInjectors injectors;

    GvtPluginManager(Path pluginsDirectory, Function<String, HostContext> hostContexts) {
        super(requireNonNull(pluginsDirectory, "pluginsDirectory is null"));
        setSystemVersion(SpiVersion.current().toString());
        // AbstractPluginManager calls the create*() factories from its constructor, before this class's
        // fields exist: the factory that needs them is installed here, after super(...).
        this.injectors = new PluginInjectors(this, hostContexts);
        this.extensionFactory = injectors;
        addPluginStateListener(injectors);
    }

    PluginInjectors injectors() {
        return injectors;
    }

    @Override
    protected PluginLoader createPluginLoader() {
        return new HostFirstJarPluginLoader(this);
    }

    /** The outcome of loading one jar. */
    sealed interface Outcome {
        /** PF4J holds the plugin (RESOLVED, not started yet). */
        record Loaded(PluginWrapper plugin) implements Outcome {}

        /** Not loaded (refused, broken or disabled); nothing of it stays in PF4J. */
        record NotLoaded(PluginStatus status) implements Outcome {}
    }

    /**
     * Loads one plugin jar after checking what PF4J does not check (or reports only in a log): that the
     * file is a readable jar, that it has a descriptor, that its id is not taken, that it declares no
     * plugin dependencies, and both version gates. Never throws for a bad plugin.
     *
     * @param claimed plugin ids already claimed by earlier jars (loaded or not), with their files
     */
    Outcome load(Path jar, Map<String, Path> claimed) {
        Optional<String> spiVersion;
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            spiVersion = Optional.ofNullable(manifest == null ? null : manifest.getMainAttributes().getValue(SPI_VERSION_ATTRIBUTE));
        } catch (IOException | SecurityException e) {
            return failed(jar, Optional.empty(), Optional.empty(), ErrorCode.INVALID_ARGUMENT,
                    "not a readable jar archive (" + describe(e) + ")");
        }

        PluginDescriptor descriptor;
        try {
            descriptor = getPluginDescriptorFinder().find(jar);
        } catch (RuntimeException e) {
            return failed(jar, Optional.empty(), Optional.empty(), ErrorCode.INVALID_ARGUMENT,
                    "no plugin descriptor: the manifest has no Plugin-Id and there is no plugin.properties (" + describe(e) + ")");
        }
        Optional<String> id = nonBlank(descriptor == null ? null : descriptor.getPluginId());
        Optional<String> version = nonBlank(descriptor == null ? null : descriptor.getVersion());
        if (id.isEmpty()) {
            return failed(jar, id, version, ErrorCode.INVALID_ARGUMENT, "no plugin descriptor: Plugin-Id is missing or empty");
        }
        if (version.isEmpty()) {
            return failed(jar, id, version, ErrorCode.INVALID_ARGUMENT, "plugin '" + id.get() + "' has no Plugin-Version");
        }
        Path owner = claimed.get(id.get());
        if (owner == null && getPlugin(id.get()) != null) {
            owner = getPlugin(id.get()).getPluginPath();
        }
        if (owner != null) {
            return failed(jar, id, version, ErrorCode.ALREADY_EXISTS, "duplicate plugin id '" + id.get()
                    + "': " + owner.getFileName() + " has it already");
        }
        if (!descriptor.getDependencies().isEmpty()) {
            return failed(jar, id, version, ErrorCode.UNSUPPORTED, "plugin '" + id.get() + "' declares Plugin-Dependencies "
                    + descriptor.getDependencies() + "; jgvt plugins cannot depend on other plugins");
        }
        Optional<String> versionProblem = checkRequires(descriptor.getRequires()).or(() -> checkSpiVersion(spiVersion));
        if (versionProblem.isPresent()) {
            return failed(jar, id, version, ErrorCode.INCOMPATIBLE_VERSION, versionProblem.get());
        }
        if (isPluginDisabled(id.get())) {
            return new Outcome.NotLoaded(new PluginStatus(jar, id, version, PluginStatus.State.DISABLED,
                    Set.of(), Optional.empty(), Optional.empty()));
        }

        try {
            loadPlugin(jar);
        } catch (RuntimeException | LinkageError e) {
            discard(id.get());
            return failed(jar, id, version, ErrorCode.INVALID_ARGUMENT, "PF4J could not load it (" + describe(e) + ")");
        }
        PluginWrapper plugin = getPlugin(id.get());
        if (plugin == null || plugin.getPluginState() != PluginState.RESOLVED) {
            String state = plugin == null ? "absent" : plugin.getPluginState().toString();
            discard(id.get());
            return failed(jar, id, version, ErrorCode.INTERNAL, "PF4J left it in state " + state + " after loading");
        }
        return new Outcome.Loaded(plugin);
    }

    /** PF4J's Plugin-Requires gate, evaluated here so that a refusal has a message instead of a log line. */
    private Optional<String> checkRequires(String requires) {
        String range = requires == null ? "" : requires.trim();
        if (range.isEmpty() || range.equals("*")) {
            return Optional.empty();
        }
        String effective = !isExactVersionAllowed() && range.matches("^\\d+\\.\\d+\\.\\d+$") ? ">=" + range : range;
        try {
            if (getVersionManager().checkVersionConstraint(getSystemVersion(), effective)) {
                return Optional.empty();
            }
            return Optional.of("Plugin-Requires '" + range + "' does not accept SPI version " + getSystemVersion());
        } catch (RuntimeException e) {
            return Optional.of("Plugin-Requires '" + range + "' is not a version range (" + describe(e) + ")");
        }
    }

    /** The exact gate for in-tree plugins: built against an SPI version this host can run. */
    private static Optional<String> checkSpiVersion(Optional<String> declared) {
        if (declared.isEmpty()) {
            return Optional.empty();
        }
        SpiVersion built;
        try {
            built = SpiVersion.parse(declared.get());
        } catch (GvtException e) {
            return Optional.of(SPI_VERSION_ATTRIBUTE + " is invalid: " + e.getMessage());
        }
        if (built.runsOn(SpiVersion.current())) {
            return Optional.empty();
        }
        return Optional.of("built against SPI " + built + " (" + SPI_VERSION_ATTRIBUTE + "), which cannot run on SPI "
                + SpiVersion.current() + ": the major version must match and the host must not be older");
    }

    /**
     * Removes a plugin from PF4J without calling into it again (its start or extension may have failed)
     * and closes its class loader. State listeners see it leave, so its injector is dropped too.
     */
    void discard(String pluginId) {
        PluginWrapper plugin = getPlugin(pluginId);
        if (plugin == null) {
            return;
        }
        if (plugin.getPluginState() == PluginState.STARTED) {
            try {
                stopPlugin(pluginId);
            } catch (RuntimeException | LinkageError e) {
                log.warn("Plugin '{}' failed to stop: {}", pluginId, describe(e));
            }
        }
        if (plugin.getPluginState() != PluginState.DISABLED) {
            plugin.setPluginState(PluginState.STOPPED); // so that unloading does not call stop() once more
        }
        try {
            unloadPlugin(pluginId);
        } catch (RuntimeException | LinkageError e) {
            log.warn("Plugin '{}' failed to unload cleanly: {}", pluginId, describe(e));
        }
        // whatever unloading left behind (it removes only resolved plugins)
        plugins.remove(pluginId);
        unresolvedPlugins.remove(plugin);
        resolvedPlugins.remove(plugin);
        startedPlugins.remove(plugin);
        ClassLoader loader = pluginClassLoaders.remove(pluginId);
        if (loader instanceof Closeable closeable) {
            try {
                closeable.close();
            } catch (IOException e) {
                log.warn("Plugin '{}': closing its class loader failed: {}", pluginId, describe(e));
            }
        }
    }

    /** Stops and unloads every plugin, newest first. */
    void discardAll() {
        stopPlugins();
        List<String> ids = new ArrayList<>(plugins.keySet());
        Collections.reverse(ids);
        ids.forEach(this::discard);
    }

    /**
     * PF4J 3.15.0's version removes from the list it iterates and throws
     * ConcurrentModificationException as soon as one plugin is started (pf4j/pf4j#656): iterate a copy.
     */
    @Override
    public void stopPlugins() {
        List<PluginWrapper> started = new ArrayList<>(getStartedPlugins());
        Collections.reverse(started);
        for (PluginWrapper plugin : started) {
            if (plugin.getPluginState() == PluginState.STARTED) {
                try {
                    stopPlugin(plugin.getPluginId());
                } catch (RuntimeException | LinkageError e) {
                    log.warn("Plugin '{}' failed to stop: {}", plugin.getPluginId(), describe(e));
                }
            }
        }
    }

    private static Outcome failed(Path jar, Optional<String> id, Optional<String> version, ErrorCode code, String reason) {
        return new Outcome.NotLoaded(PluginStatus.failed(jar, id, version, code, reason));
    }

    private static Optional<String> nonBlank(String text) {
        return text == null || text.isBlank() ? Optional.empty() : Optional.of(text.trim());
    }

    /** One line: the exception type and message, and those of its causes. */
    static String describe(Throwable e) {
        List<String> parts = new ArrayList<>();
        for (Throwable t = e; t != null && parts.size() < 4; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage();
            parts.add(t.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + firstLine(message)));
        }
        return parts.stream().distinct().collect(Collectors.joining("; caused by "));
    }

    static String firstLine(String text) {
        String trimmed = text.strip();
        int end = trimmed.indexOf('\n');
        return end < 0 ? trimmed : trimmed.substring(0, end).strip();
    }

    /** PF4J's jar loader, creating {@link HostFirstPluginClassLoader}s. */
    private static final class HostFirstJarPluginLoader extends JarPluginLoader {
        HostFirstJarPluginLoader(PluginManager manager) {
            super(manager);
        }

        @Override
        protected PluginClassLoader createPluginClassLoader(Path pluginPath, PluginDescriptor descriptor) {
            return new HostFirstPluginClassLoader(pluginManager, descriptor, GvtPluginManager.class.getClassLoader());
        }
    }
}
