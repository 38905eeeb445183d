package dev.jgvt.core.plugin;

import java.util.List;
import org.pf4j.PluginClassLoader;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginManager;

/**
 * A plugin's class loader: host-first for the packages host and plugins share (the SPI, SLF4J,
 * jakarta.inject, and PF4J itself), plugin-first for everything else (PF4J's default strategy). A plugin
 * that bundles a copy of a shared class therefore still sees the host's copy, so its extension stays
 * assignable to the host's {@code HypervisorPlugin} (pf4j/pf4j#64, #519), while its private libraries
 * win over any copy on the host's class path.
 */
final class HostFirstPluginClassLoader extends PluginClassLoader {
    /** Package prefixes always loaded from the host. PF4J adds {@code org.pf4j.} itself. */
    static final List<String> SHARED_PACKAGES = List.of("dev.jgvt.spi.", "org.slf4j.", "jakarta.inject.");

    HostFirstPluginClassLoader(PluginManager manager, PluginDescriptor descriptor, ClassLoader parent) {
        super(manager, descriptor, parent);
    }

    @Override
    protected boolean shouldDelegateToParent(String className) {
        return super.shouldDelegateToParent(className) || isShared(className);
    }

    static boolean isShared(String className) {
        for (String prefix : SHARED_PACKAGES) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
