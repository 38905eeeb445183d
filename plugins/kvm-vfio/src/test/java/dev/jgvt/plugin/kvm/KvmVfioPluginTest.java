package dev.jgvt.plugin.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.spi.Capability;
import org.junit.jupiter.api.Test;

final class KvmVfioPluginTest {
    @Test
    void isAvailableAndDeclaresWhatItsServerDoes() {
        KvmVfioPlugin plugin = new KvmVfioPlugin();
        assertThat(plugin.id()).isEqualTo("kvm-vfio");
        assertThat(plugin.capabilities()).containsExactlyInAnyOrder(Capability.PAGE_TRACKING, Capability.GUEST_PAGE_DMA, Capability.INTX);
        assertThat(plugin.availability().available()).isTrue();
        assertThat(plugin.availability().reason()).contains("vfio-user");
    }
}
