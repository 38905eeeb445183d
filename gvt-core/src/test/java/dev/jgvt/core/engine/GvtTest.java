package dev.jgvt.core.engine;

import static dev.jgvt.core.plugin.TestPluginJars.plugin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.jgvt.core.plugin.PluginStatus;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.HypervisorPlugin;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class GvtTest {
    @Test
    void theEngineLoadsItsPluginsAndHandsEachItsSettings(@TempDir Path dir) throws ReflectiveOperationException {
        plugin("good").standardExtension().writeTo(dir, "good.jar");
        plugin("bad").standardExtension().manifest("Plugin-Requires", ">=3.0.0").writeTo(dir, "bad.jar");
        GvtConfig config = new GvtConfig(dir, Map.of("plugin.good.socket", "/run/x.sock", "plugin.bad.a", "b", "other", "c"));

        try (Gvt gvt = Gvt.start(config)) {
            assertThat(gvt.plugins()).extracting(PluginStatus::id, PluginStatus::state).containsExactly(
                    org.assertj.core.groups.Tuple.tuple(Optional.of("bad"), PluginStatus.State.FAILED),
                    org.assertj.core.groups.Tuple.tuple(Optional.of("good"), PluginStatus.State.STARTED));
            HypervisorPlugin good = gvt.plugin("good");
            HostContext context = (HostContext) good.getClass().getMethod("context").invoke(good);
            assertThat(context.configuration()).isEqualTo(Map.of("socket", "/run/x.sock"));
            assertThat(context.workDirectory()).isEmpty();

            GvtException missing = catchThrowableOfType(GvtException.class, () -> gvt.plugin("kvm-vfio"));
            assertThat(missing.code()).isEqualTo(ErrorCode.NOT_FOUND);
            assertThat(missing.getMessage()).contains("no plugin 'kvm-vfio'");
        }
    }

    @Test
    void aMissingPluginsDirectoryIsATypedErrorNotAGuiceOne(@TempDir Path dir) {
        Path missing = dir.resolve("absent");
        GvtException e = catchThrowableOfType(GvtException.class, () -> Gvt.start(GvtConfig.of(missing)));
        assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(e.getMessage()).isEqualTo("plugins directory " + missing + " does not exist");
    }

    @Test
    void closingTwiceIsHarmless(@TempDir Path dir) {
        plugin("good").standardExtension().writeTo(dir, "good.jar");
        Gvt gvt = Gvt.start(GvtConfig.of(dir));
        gvt.close();
        gvt.close();
        assertThat(gvt.plugins()).extracting(PluginStatus::state).containsExactly(PluginStatus.State.STOPPED);
    }

    @Test
    void pluginSettingsAreThoseUnderThePluginsPrefix() {
        GvtConfig config = new GvtConfig(Path.of("p"),
                Map.of("plugin.xen.domid", "3", "plugin.xen.", "empty key", "plugin.xenith.x", "y", "xen.z", "w"));
        assertThat(config.pluginSettings("xen")).isEqualTo(Map.of("domid", "3"));
        assertThat(config.pluginSettings("fake")).isEmpty();
    }
}
