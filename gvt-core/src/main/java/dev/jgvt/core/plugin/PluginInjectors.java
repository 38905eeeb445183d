package dev.jgvt.core.plugin;

import static java.util.Objects.requireNonNull;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginManager;
import org.pf4j.PluginStateEvent;
import org.pf4j.PluginStateListener;
import org.pf4j.PluginWrapper;

/**
 * Creates plugin extensions, each through an injector of its plugin's own: one isolated top-level Guice
 * injector per plugin (never a child of an engine injector: a parent keeps every key bound in a child in
 * its banned-key set and would pin the plugin's class loader after unload). The injector binds exactly
 * the plugin's {@link HostContext} and the plugin's extension classes, with explicit bindings only; it is
 * dropped as soon as the plugin leaves the STARTED state (stopped, unloaded, failed, disabled).
 */
final class PluginInjectors implements ExtensionFactory, PluginStateListener {
    private final PluginManager manager;
    private final Function<String, HostContext> hostContexts;
    private final Map<String, Injector> injectors = new ConcurrentHashMap<>();

    PluginInjectors(PluginManager manager, Function<String, HostContext> hostContexts) {
        this.manager = requireNonNull(manager, "manager is null");
        this.hostContexts = requireNonNull(hostContexts, "hostContexts is null");
    }

    @Override
    public <T> T create(Class<T> extensionClass) {
        PluginWrapper plugin = manager.whichPlugin(extensionClass);
        if (plugin == null) {
            throw new GvtException(ErrorCode.INTERNAL, extensionClass.getName()
                    + " was not loaded by a plugin class loader: only plugin extensions are created here");
        }
        return injectors.computeIfAbsent(plugin.getPluginId(), this::newInjector).getInstance(extensionClass);
    }

    /** Whether the plugin currently has an injector (tests use it to see injectors dropped). */
    boolean hasInjector(String pluginId) {
        return injectors.containsKey(pluginId);
    }

    @Override
    public void pluginStateChanged(PluginStateEvent event) {
        if (!event.getPluginState().isStarted()) {
            injectors.remove(event.getPlugin().getPluginId());
        }
    }

    private Injector newInjector(String pluginId) {
        HostContext context = requireNonNull(hostContexts.apply(pluginId), "host context is null");
        List<Class<?>> extensions = manager.getExtensionClasses(pluginId);
        return Guice.createInjector(Stage.PRODUCTION, binder -> {
            binder.requireExplicitBindings();
            binder.disableCircularProxies();
            binder.bind(HostContext.class).toInstance(context);
            for (Class<?> extension : extensions) {
                binder.bind(extension);
            }
        });
    }
}
