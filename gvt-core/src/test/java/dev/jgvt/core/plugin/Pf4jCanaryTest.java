package dev.jgvt.core.plugin;

import static dev.jgvt.core.plugin.TestPluginJars.plugin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ConcurrentModificationException;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

/**
 * Upstream behaviour that {@link GvtPluginManager} works around (pf4j/pf4j#656): PF4J 3.15.0's
 * {@code stopPlugins()} iterates the started-plugins list while each stop removes from it. When a PF4J
 * upgrade makes these tests fail, the {@code stopPlugins()} override can go.
 */
final class Pf4jCanaryTest {
    @Test
    void withOneStartedPluginStopPluginsThrows(@TempDir Path dir) {
        plugin("alpha").standardExtension().writeTo(dir, "a.jar");
        withPlainPf4j(dir, manager -> assertThatThrownBy(manager::stopPlugins)
                .isInstanceOf(ConcurrentModificationException.class));
    }

    @Test
    void withTwoStartedPluginsStopPluginsSilentlyLeavesOneStarted(@TempDir Path dir) {
        plugin("alpha").standardExtension().writeTo(dir, "a.jar");
        plugin("beta").standardExtension().writeTo(dir, "b.jar");
        withPlainPf4j(dir, manager -> {
            manager.stopPlugins();
            assertThat(manager.getPlugins()).extracting(PluginWrapper::getPluginState)
                    .containsExactlyInAnyOrder(PluginState.STARTED, PluginState.STOPPED);
        });
    }

    private static void withPlainPf4j(Path dir, Consumer<DefaultPluginManager> check) {
        DefaultPluginManager manager = new DefaultPluginManager(dir);
        try {
            manager.loadPlugins();
            manager.startPlugins();
            assertThat(manager.getStartedPlugins()).isNotEmpty();
            check.accept(manager);
        } finally {
            manager.getPlugins().forEach(p -> p.setPluginState(PluginState.STOPPED));
            manager.unloadPlugins();
        }
    }
}
