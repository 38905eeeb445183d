package dev.jgvt.core.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class RegisterRegistryTest {
    private final RegisterRegistry registry = RegisterRegistry.gen9();

    @Test
    void commandAccessQuery() {
        assertThat(registry.isCommandAccessible(0x209C)).isTrue(); // MI_MODE
        assertThat(registry.isCommandAccessible(0x2270)).isTrue(); // RCS PDP
        assertThat(registry.isCommandAccessible(0x7004)).isTrue(); // CACHE_MODE_1
        assertThat(registry.isCommandAccessible(0x2030)).isFalse(); // ring tail
        assertThat(registry.isCommandAccessible(Gen9Registers.FENCE_BASE)).isFalse();
        assertThat(registry.isCommandAccessible(0x4)).isFalse();
        assertThat(registry.isCommandAccessible(-4)).isFalse();
        assertThat(registry.isCommandAccessible(MmioSpace.REGISTER_FILE_SIZE)).isFalse();
        assertThat(registry.isCommandAccessible(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void rowsCoverWhatTheIssueLists() {
        Set<String> names = new HashSet<>();
        for (Register r : registry.rows()) {
            names.add(r.name());
        }
        assertThat(names).contains("RENDER_RING_TAIL", "BLT_ELSP", "BSD_CSB", "VEBOX_CSB_PTR", "GEN8_MASTER_IRQ",
                "GEN8_GT_IIR3", "GEN8_DE_PIPE_IER0", "GEN8_DE_PORT_IMR", "GEN8_DE_MISC_ISR", "GEN8_PCU_IIR",
                "FORCEWAKE_RENDER_GEN9", "FORCEWAKE_ACK_RENDER_GEN9", "GEN6_GT_THREAD_STATUS_REG", "FENCE_REG_GEN6_LO",
                "GEN6_PCODE_MAILBOX", "GEN6_GDRST", "PIPEACONF", "PIPEASRC", "PLANE_CTL_1_A", "PLANE_SURF_1_A",
                "PLANE_STRIDE_1_A", "PLANE_SIZE_1_A", "PLANE_POS_1_A", "PLANE_OFFSET_1_A", "CUR_CTL_A", "CUR_BASE_A",
                "CUR_POS_A", "PVINFO_MAGIC", "PVINFO_G2V_NOTIFY");
        assertThat(registry.rowAt(0x2274).orElseThrow().name()).isEqualTo("RENDER_PDP");
        assertThat(registry.rowAt(0x2274).orElseThrow().nameOf(1)).isEqualTo("RENDER_PDP_1");
        assertThat(registry.rowAt(0x4)).isEmpty();
        assertThat(registry.has(0x44308, Attr.WRITE_1_CLEAR)).isTrue();
        assertThat(registry.has(0x2244, Attr.IN_CONTEXT)).isTrue();
        assertThat(registry.has(0x2080, Attr.GM_ADDRESS)).isTrue();
    }

    @Test
    void overlappingRowsAreRejected() {
        List<Register> rows = List.of(
                new Register("A", 0x100, 4, 4, EnumSet.noneOf(Attr.class), Behavior.STORE, 0),
                new Register("B", 0x108, 1, 4, EnumSet.noneOf(Attr.class), Behavior.STORE, 0));
        assertThatThrownBy(() -> new RegisterRegistry(rows)).hasMessageContaining("B").hasMessageContaining("overlaps A");
        assertThatThrownBy(() -> new Register("C", 0x102, 1, 4, Set.of(), Behavior.STORE, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Register("D", MmioSpace.REGISTER_FILE_SIZE, 1, 4, Set.of(), Behavior.STORE, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
