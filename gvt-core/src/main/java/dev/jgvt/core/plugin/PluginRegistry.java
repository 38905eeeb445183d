package dev.jgvt.core.plugin;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.plugin.GvtPluginManager.Outcome;
import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import dev.jgvt.spi.HypervisorPlugin.Availability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.pf4j.PluginStateEvent;
import org.pf4j.PluginStateListener;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's plugins: every {@code *.jar} directly in one directory, loaded in file-name order, each
 * started and its single {@link HypervisorPlugin} extension created once, at load time. A plugin that
 * cannot be loaded, started or created is reported as {@link PluginStatus.State#FAILED} with a message
 * naming its file and the reason, its class loader is released, and the others load regardless.
 *
 * <p>Thread-safe: every method is synchronized (PF4J's manager is not thread-safe).
 */
public final class PluginRegistry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PluginRegistry.class);

    private final Path directory;
    private final GvtPluginManager manager;
    private final Function<String, HostContext> hostContexts;
    /** One entry per jar, in load order: a live plugin or the final status of one that is not running. */
    private final Map<Path, Entry> entries = new LinkedHashMap<>();
    private boolean closed;

    private PluginRegistry(Path directory, Function<String, HostContext> hostContexts) {
        this.directory = directory;
        this.manager = new GvtPluginManager(directory, hostContexts);
        this.hostContexts = hostContexts;
        manager.addPluginStateListener(new StopListener());
    }

    /**
     * Loads and starts the plugins in {@code directory}.
     *
     * @param hostContexts the {@link HostContext} for a plugin id; bound in that plugin's injector
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when the directory does not exist,
     *     {@link ErrorCode#INVALID_ARGUMENT} when it is not a directory, {@link ErrorCode#IO_ERROR} when it
     *     cannot be listed. Bad plugins never throw: they are reported in {@link #statuses()}.
     */
    public static PluginRegistry load(Path directory, Function<String, HostContext> hostContexts) {
        requireNonNull(directory, "directory is null");
        requireNonNull(hostContexts, "hostContexts is null");
        Path absolute = directory.toAbsolutePath().normalize();
        if (!Files.exists(absolute)) {
            throw new GvtException(ErrorCode.NOT_FOUND, "plugins directory " + absolute + " does not exist");
        }
        if (!Files.isDirectory(absolute)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "plugins directory " + absolute + " is not a directory");
        }
        List<Path> jars;
        try (Stream<Path> files = Files.list(absolute)) {
            jars = files.filter(PluginRegistry::isJar).sorted().toList();
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot list plugins directory " + absolute + ": " + e.getMessage(), e);
        }
        PluginRegistry registry = new PluginRegistry(absolute, hostContexts);
        synchronized (registry) {
            for (Path jar : jars) {
                registry.loadOne(jar);
            }
        }
        log.info("Plugins in {}: {}", absolute, registry.statuses().stream()
                .map(s -> s.id().orElse(s.file().getFileName().toString()) + "=" + s.state())
                .collect(Collectors.joining(", ")));
        return registry;
    }

    private static boolean isJar(Path file) {
        return Files.isRegularFile(file) && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jar");
    }

    /** The directory plugins were loaded from (absolute). */
    public Path directory() {
        return directory;
    }

    /** One status per plugin jar, in load (file-name) order. Asks started plugins for their availability. */
    public synchronized List<PluginStatus> statuses() {
        List<PluginStatus> statuses = new ArrayList<>(entries.size());
        for (Entry entry : entries.values()) {
            statuses.add(switch (entry) {
                case Entry.Live live -> live.status(availabilityOf(live));
                case Entry.Done done -> done.status();
            });
        }
        return List.copyOf(statuses);
    }

    /**
     * The started plugin with this id.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when no plugin with that id is started (the message
     *     says why when the plugin exists but failed, is disabled or stopped)
     */
    public synchronized HypervisorPlugin plugin(String id) {
        requireNonNull(id, "id is null");
        for (Entry entry : entries.values()) {
            if (entry instanceof Entry.Live live && live.id().equals(id)) {
                return live.plugin();
            }
        }
        for (Entry entry : entries.values()) {
            if (entry instanceof Entry.Done done && done.status().id().equals(Optional.of(id))) {
                PluginStatus status = done.status();
                throw new GvtException(ErrorCode.NOT_FOUND, "plugin '" + id + "' is " + status.state()
                        + status.failure().map(f -> ": " + f.message()).orElse(""));
            }
        }
        String started = entries.values().stream()
                .flatMap(e -> e instanceof Entry.Live live ? Stream.of(live.id()) : Stream.empty())
                .collect(Collectors.joining(", "));
        throw new GvtException(ErrorCode.NOT_FOUND, "no plugin '" + id + "' in " + directory
                + " (started: " + (started.isEmpty() ? "none" : started) + ")");
    }

    /**
     * Opens the started plugin {@code id} with its {@link HostContext}, with the plugin's class loader as
     * the thread's context loader during the call. The caller owns the returned hypervisor and must close
     * it before this registry is closed (it holds the plugin's classes).
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} as {@link #plugin}; whatever the plugin's
     *     {@code open} throws (typically {@link ErrorCode#UNSUPPORTED} with its reason); a plugin that
     *     throws anything but {@link GvtException} or returns null gives {@link ErrorCode#INTERNAL} naming it
     */
    public synchronized Hypervisor open(String id) {
        HypervisorPlugin plugin = plugin(id);
        ClassLoader loader = entries.values().stream()
                .flatMap(e -> e instanceof Entry.Live live && live.id().equals(id) ? Stream.of(live.loader()) : Stream.empty())
                .findFirst()
                .orElseThrow();
        Hypervisor hypervisor;
        try {
            hypervisor = withContextLoader(loader, () -> plugin.open(hostContexts.apply(id)));
        } catch (GvtException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new GvtException(ErrorCode.INTERNAL, "plugin '" + id + "' failed in open(): " + GvtPluginManager.describe(e), e);
        }
        if (hypervisor == null) {
            throw new GvtException(ErrorCode.INTERNAL, "plugin '" + id + "' returned no hypervisor from open()");
        }
        return hypervisor;
    }

    /** Stops and unloads every plugin and releases their class loaders. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        manager.discardAll();
        entries.replaceAll((file, entry) -> entry instanceof Entry.Live live ? new Entry.Done(live.stopped()) : entry);
    }

    /** The PF4J manager, for tests in this package. */
    GvtPluginManager manager() {
        return manager;
    }

    private void loadOne(Path jar) {
        Map<String, Path> claimed = new HashMap<>();
        for (Map.Entry<Path, Entry> e : entries.entrySet()) {
            idOf(e.getValue()).ifPresent(id -> claimed.putIfAbsent(id, e.getKey()));
        }
        Outcome outcome;
        try {
            outcome = manager.load(jar, claimed);
        } catch (RuntimeException | LinkageError e) { // a bug in the checks above must not stop the others
            outcome = new Outcome.NotLoaded(PluginStatus.failed(jar, Optional.empty(), Optional.empty(),
                    ErrorCode.INTERNAL, "loading failed unexpectedly (" + GvtPluginManager.describe(e) + ")"));
        }
        Entry entry = switch (outcome) {
            case Outcome.NotLoaded notLoaded -> new Entry.Done(notLoaded.status());
            case Outcome.Loaded loaded -> start(jar, loaded.plugin());
        };
        if (entry instanceof Entry.Done done && done.status().failure().isPresent()) {
            log.warn("Plugin not loaded: {}", done.status().failure().get().message());
        }
        entries.put(jar, entry);
    }

    private static Optional<String> idOf(Entry entry) {
        return switch (entry) {
            case Entry.Live live -> Optional.of(live.id());
            case Entry.Done done -> done.status().id();
        };
    }

    /** Starts a loaded plugin and creates its extension; on any failure the plugin is discarded. */
    private Entry start(Path jar, PluginWrapper wrapper) {
        String id = wrapper.getPluginId();
        Optional<String> version = Optional.of(wrapper.getDescriptor().getVersion());
        Optional<String> badPluginClass = checkPluginClass(wrapper);
        if (badPluginClass.isPresent()) {
            manager.discard(id);
            return new Entry.Done(PluginStatus.failed(jar, Optional.of(id), version, ErrorCode.INVALID_ARGUMENT,
                    badPluginClass.get()));
        }
        try {
            manager.startPlugin(id);
        } catch (RuntimeException | LinkageError e) {
            wrapper.setFailedException(e);
        }
        if (wrapper.getPluginState() != org.pf4j.PluginState.STARTED) {
            String reason = wrapper.getFailedException() == null
                    ? "it did not start (state " + wrapper.getPluginState() + ")"
                    : "its Plugin-Class " + wrapper.getDescriptor().getPluginClass() + " failed to start ("
                            + GvtPluginManager.describe(wrapper.getFailedException()) + ")";
            manager.discard(id);
            return new Entry.Done(PluginStatus.failed(jar, Optional.of(id), version, ErrorCode.INTERNAL, reason));
        }
        try {
            HypervisorPlugin plugin = createExtension(id, wrapper.getPluginClassLoader());
            Set<Capability> capabilities = capabilitiesOf(plugin, wrapper.getPluginClassLoader());
            return new Entry.Live(jar, id, version.get(), plugin, capabilities, wrapper.getPluginClassLoader());
        } catch (Refusal e) {
            manager.discard(id);
            return new Entry.Done(PluginStatus.failed(jar, Optional.of(id), version, e.code, e.getMessage()));
        } catch (RuntimeException | LinkageError e) {
            manager.discard(id);
            return new Entry.Done(PluginStatus.failed(jar, Optional.of(id), version, ErrorCode.INTERNAL,
                    "its HypervisorPlugin could not be created (" + GvtPluginManager.describe(e) + ")"));
        }
    }

    /**
     * PF4J's plugin factory logs and returns null for a Plugin-Class it cannot load or instantiate, and
     * starting then fails with a NullPointerException: check the class first, to say what is wrong.
     */
    private static Optional<String> checkPluginClass(PluginWrapper wrapper) {
        String name = wrapper.getDescriptor().getPluginClass();
        if (name == null || name.isBlank() || name.equals(org.pf4j.Plugin.class.getName())) {
            return Optional.empty();
        }
        try {
            Class<?> type = Class.forName(name.trim(), false, wrapper.getPluginClassLoader());
            if (!org.pf4j.Plugin.class.isAssignableFrom(type)) {
                return Optional.of("Plugin-Class " + name + " does not extend org.pf4j.Plugin");
            }
            return Optional.empty();
        } catch (ClassNotFoundException | LinkageError e) {
            return Optional.of("Plugin-Class " + name + " cannot be loaded (" + GvtPluginManager.describe(e) + ")");
        }
    }

    private HypervisorPlugin createExtension(String id, ClassLoader loader) throws Refusal {
        List<Class<? extends HypervisorPlugin>> classes = manager.getExtensionClasses(HypervisorPlugin.class, id);
        if (classes.isEmpty()) {
            throw new Refusal(ErrorCode.INVALID_ARGUMENT, "plugin '" + id + "' has no HypervisorPlugin extension"
                    + " (META-INF/extensions.idx lists none that loads and implements dev.jgvt.spi.HypervisorPlugin)");
        }
        if (classes.size() > 1) {
            throw new Refusal(ErrorCode.INVALID_ARGUMENT, "plugin '" + id + "' has " + classes.size()
                    + " HypervisorPlugin extensions (" + classes.stream().map(Class::getName).sorted()
                            .collect(Collectors.joining(", ")) + "); a plugin provides exactly one");
        }
        Class<? extends HypervisorPlugin> type = classes.getFirst();
        HypervisorPlugin plugin;
        try {
            plugin = withContextLoader(loader, () -> manager.getExtensionFactory().create(type));
        } catch (RuntimeException | LinkageError e) {
            throw new Refusal(ErrorCode.INTERNAL, "creating " + type.getName() + " failed (" + failureOf(e) + ")");
        }
        String reported = withContextLoader(loader, plugin::id);
        if (!id.equals(reported)) {
            throw new Refusal(ErrorCode.INVALID_ARGUMENT, type.getName() + ".id() returns '" + reported
                    + "' but the descriptor's Plugin-Id is '" + id + "'");
        }
        return plugin;
    }

    /** Capabilities must not change over a plugin's life: asked once, at start. */
    private static Set<Capability> capabilitiesOf(HypervisorPlugin plugin, ClassLoader loader) throws Refusal {
        String name = plugin.getClass().getName() + ".capabilities()";
        Set<Capability> capabilities;
        try {
            capabilities = withContextLoader(loader, plugin::capabilities);
        } catch (RuntimeException | LinkageError e) {
            throw new Refusal(ErrorCode.INTERNAL, name + " failed (" + GvtPluginManager.describe(e) + ")");
        }
        if (capabilities == null || capabilities.stream().anyMatch(java.util.Objects::isNull)) {
            throw new Refusal(ErrorCode.INVALID_ARGUMENT, name + " returned null or a set containing null");
        }
        return Set.copyOf(capabilities);
    }

    /**
     * Guice wraps what a constructor throws, and reports binding errors in a multi-line message: the
     * plugin's own exception, or Guice's first error, is what the user needs to see.
     */
    private static String failureOf(Throwable e) {
        if (e instanceof com.google.inject.CreationException creation && creation.getCause() == null
                && !creation.getErrorMessages().isEmpty()) {
            return "Guice: " + GvtPluginManager.firstLine(creation.getErrorMessages().iterator().next().getMessage());
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root
                && root.getClass().getName().startsWith("com.google.inject.")) {
            root = root.getCause();
        }
        return GvtPluginManager.describe(root);
    }

    private static Availability availabilityOf(Entry.Live live) {
        try {
            Availability availability = withContextLoader(live.loader(), live.plugin()::availability);
            return availability == null ? Availability.unavailable("availability() returned null") : availability;
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable("availability() failed: " + GvtPluginManager.describe(e));
        }
    }

    /** Calls into a plugin with its class loader as context loader (libraries inside plugins look there). */
    private static <T> T withContextLoader(ClassLoader loader, Supplier<T> call) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return call.get();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Drops a live plugin as soon as PF4J moves it out of STARTED, whoever asked. */
    private final class StopListener implements PluginStateListener {
        @Override
        public void pluginStateChanged(PluginStateEvent event) {
            if (event.getPluginState().isStarted()) {
                return;
            }
            synchronized (PluginRegistry.this) {
                entries.replaceAll((file, entry) -> entry instanceof Entry.Live live
                        && live.id().equals(event.getPlugin().getPluginId()) ? new Entry.Done(live.stopped()) : entry);
            }
        }
    }

    private sealed interface Entry {
        record Live(Path file, String id, String version, HypervisorPlugin plugin, Set<Capability> capabilities,
                ClassLoader loader) implements Entry {
            PluginStatus status(Availability availability) {
                return new PluginStatus(file, Optional.of(id), Optional.of(version), PluginStatus.State.STARTED,
                        capabilities, Optional.of(availability), Optional.empty());
            }

            PluginStatus stopped() {
                return new PluginStatus(file, Optional.of(id), Optional.of(version), PluginStatus.State.STOPPED,
                        Set.of(), Optional.empty(), Optional.empty());
            }
        }

        record Done(PluginStatus status) implements Entry {}
    }

    /** A plugin refused for a reason worth its own message. */
    private static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient ErrorCode code;

        Refusal(ErrorCode code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }
}
