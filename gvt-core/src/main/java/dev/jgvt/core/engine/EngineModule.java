package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.TypeLiteral;
import dev.jgvt.core.display.VblankClock;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.plugin.PluginRegistry;
import dev.jgvt.core.vgpu.VgpuManager;
import dev.jgvt.spi.HostContext;
import java.util.Optional;
import java.util.function.Function;

/**
 * The engine's wiring. Explicit bindings only; plugins never see this injector (each gets an isolated
 * injector of its own from the plugin registry).
 */
public final class EngineModule extends AbstractModule {
    private final GvtConfig config;
    private final Optional<HostGpu> hostGpu;

    public EngineModule(GvtConfig config) {
        this(config, Optional.empty());
    }

    public EngineModule(GvtConfig config, Optional<HostGpu> hostGpu) {
        this.config = requireNonNull(config, "config is null");
        this.hostGpu = requireNonNull(hostGpu, "hostGpu is null");
    }

    @Override
    protected void configure() {
        binder().requireExplicitBindings();
        binder().disableCircularProxies();
        bind(GvtConfig.class).toInstance(config);
        bind(new TypeLiteral<Optional<HostGpu>>() {}).toInstance(hostGpu);
        bind(Gvt.class).in(Singleton.class);
    }

    @Provides
    @Singleton
    VgpuManager vgpuManager(GvtConfig config) {
        return new VgpuManager(config.geometry(), VblankClock.system());
    }

    @Provides
    @Singleton
    PluginRegistry pluginRegistry(GvtConfig config) {
        Function<String, HostContext> contexts = id -> new EngineHostContext(config.pluginSettings(id), Optional.empty());
        return PluginRegistry.load(config.pluginsDirectory(), contexts);
    }
}
