package dev.jgvt.plugin.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import org.junit.jupiter.api.Test;

final class KvmVfioPluginTest {
    @Test
    void staysHonestlyUnavailableUntilTheServerExists() {
        KvmVfioPlugin plugin = new KvmVfioPlugin();
        assertThat(plugin.id()).isEqualTo("kvm-vfio");
        assertThat(plugin.capabilities()).isEmpty();
        assertThat(plugin.availability().available()).isFalse();
        assertThat(plugin.availability().reason()).contains("vfio-user server").contains("not built");
        assertThatThrownBy(() -> plugin.open(null)).isInstanceOfSatisfying(GvtException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
            assertThat(e.getMessage()).isEqualTo(KvmVfioPlugin.NOT_BUILT);
        });
    }
}
