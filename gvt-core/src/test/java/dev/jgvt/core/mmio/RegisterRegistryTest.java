package dev.jgvt.core.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.cmd.Gen9RegisterPolicy;
import dev.jgvt.core.hw.Register;
import dev.jgvt.core.hw.RegisterAttr;
import dev.jgvt.core.hw.RegisterTable;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class RegisterRegistryTest {
    private final RegisterRegistry registry = RegisterRegistry.gen9();

    @Test
    void commandAccessComesFromTheTable() {
        assertThat(registry.has(0x209C, RegisterAttr.CMD_ACCESS)).isTrue(); // MI_MODE
        assertThat(registry.has(0x2270, RegisterAttr.CMD_ACCESS)).isTrue(); // RCS PDP
        assertThat(registry.has(0x7004, RegisterAttr.CMD_ACCESS)).isTrue(); // CACHE_MODE_1
        assertThat(registry.has(0x2030, RegisterAttr.CMD_ACCESS)).isFalse(); // ring tail
        assertThat(registry.has(Gen9Registers.FENCE_BASE, RegisterAttr.CMD_ACCESS)).isFalse();
        assertThat(registry.has(0x4, RegisterAttr.CMD_ACCESS)).isFalse();
        assertThat(registry.has(-4, RegisterAttr.CMD_ACCESS)).isFalse();
        assertThat(registry.has(MmioSpace.REGISTER_FILE_SIZE, RegisterAttr.CMD_ACCESS)).isFalse();
        assertThat(registry.has(Long.MAX_VALUE, RegisterAttr.CMD_ACCESS)).isFalse();
    }

    @Test
    void theScannersPolicyIsDerivedFromTheSameTable() {
        Gen9RegisterPolicy policy = Gen9RegisterPolicy.load();
        int cmd = 0;
        for (int offset = 0; offset < MmioSpace.REGISTER_FILE_SIZE; offset += 4) {
            boolean accessible = registry.has(offset, RegisterAttr.CMD_ACCESS);
            assertThat(policy.commandAccessible(offset)).as("0x%x", offset).isEqualTo(accessible);
            assertThat(policy.memoryTransferAllowed(offset)).as("0x%x", offset)
                    .isEqualTo(registry.has(offset, RegisterAttr.MEMORY_TRANSFER));
            assertThat(policy.patchedOffset(offset) >= 0).as("0x%x", offset)
                    .isEqualTo(registry.has(offset, RegisterAttr.PATCHED));
            cmd += accessible ? 1 : 0;
        }
        assertThat(cmd).isGreaterThan(600);
        assertThat(policy.memoryTransferAllowed(0xB118)).isTrue();
        assertThat(policy.patchedOffset(0x44050)).isEqualTo(Gen9RegisterPolicy.PATCH_TARGET); // DERRMR
        assertThat(policy.commandAccessible(0x1C270)).isTrue(); // VCS2 PDP, a ring-relative row
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
        assertThat(registry.has(0x44308, RegisterAttr.WRITE_1_CLEAR)).isTrue();
        assertThat(registry.has(0x2244, RegisterAttr.IN_CONTEXT)).isTrue();
        assertThat(registry.has(0x2080, RegisterAttr.GM_ADDRESS)).isTrue();
        assertThat(registry.behaviorAt(0x2230)).contains(Behavior.ELSP);
        assertThat(registry.behaviorAt(0x2030)).contains(Behavior.STORE);
        assertThat(registry.behaviorAt(0x4)).isEmpty();
    }

    @Test
    void pvinfoRowsMatchThePvinfoFields() {
        for (PvInfo.Field f : PvInfo.Field.values()) {
            Register row = registry.rowAt(Gen9Registers.PVINFO_PAGE + f.offset()).orElseThrow();
            assertThat(row.name()).isEqualTo(f.registerName());
            assertThat(row.offset()).isEqualTo(Gen9Registers.PVINFO_PAGE + f.offset());
            assertThat(row.count()).isEqualTo(f.count());
            assertThat(registry.behaviorAt(row.offset())).contains(Behavior.PVINFO);
        }
    }

    @Test
    void aRegisterWithOrdinarySemanticsIsOneLineOfData() {
        List<String> lines = new ArrayList<>(RegisterTable.resourceLines(RegisterTable.GEN9_RESOURCE));
        lines.add("0x9f00  1  -  GOLDEN_TEST  ro,cmd  0x12345678  -");
        lines.add("ring+0x2d0  2  8  *_TEST_PAIR  mode  0x0000beef  -");
        RegisterRegistry extended = new RegisterRegistry(RegisterTable.parse("extended.tsv", lines));
        assertThat(extended.rows()).hasSize(registry.rows().size() + 1 + 5);
        assertThat(extended.rowAt(0x122d8).orElseThrow().name()).isEqualTo("BSD_TEST_PAIR");

        MmioSpace mmio = new MmioSpace(extended, new UnshadowedGgttWindow(MmioSpace.GGTT_WINDOW_SIZE), "test");
        assertThat(mmio.read(0x9f00, 4)).isEqualTo(0x12345678L); // golden
        mmio.write(0x9f00, 4, 0);
        assertThat(mmio.read(0x9f00, 4)).isEqualTo(0x12345678L); // read-only
        assertThat(mmio.read(0x222d8, 4)).isEqualTo(0xBEEFL);
        mmio.write(0x222d8, 4, 0x00FF_0000L); // mode mask: clear the low byte
        assertThat(mmio.read(0x222d8, 4)).isEqualTo(0xBE00L);
        assertThat(mmio.unhandledAccesses()).isZero();
        mmio.write(0x222d8, 4, 0x00FF_00FFL);
        mmio.resetRange(0, MmioSpace.REGISTER_FILE_SIZE);
        assertThat(mmio.read(0x222d8, 4)).isEqualTo(0xBEEFL);
        assertThat(new Gen9RegisterPolicy(extended.table()).commandAccessible(0x9f00)).isTrue();
    }

    @Test
    void malformedTablesNameTheLine() {
        assertThatThrownBy(() -> RegisterTable.parse("t.tsv", List.of("# c", "0x100 1 - A - - -", "0x104 1 - B bogus - -")))
                .hasMessageContaining("t.tsv:3").hasMessageContaining("bogus");
        assertThatThrownBy(() -> RegisterTable.parse("t.tsv", List.of("0x100 1 -")))
                .hasMessageContaining("t.tsv:1").hasMessageContaining("7 columns");
        assertThatThrownBy(() -> RegisterTable.parse("t.tsv", List.of("ring+0x30 1 - *_TAIL - - -")))
                .hasMessageContaining("@engine");
        assertThatThrownBy(() -> RegisterTable.parse("t.tsv", List.of("@engine VCS3")))
                .hasMessageContaining("t.tsv:1").hasMessageContaining("VCS3");
        assertThat(RegisterTable.parse("t.tsv", List.of("@engine VECS", "ring+0x30 1 - *_TAIL - - -")).rows().getFirst())
                .isEqualTo(new Register("VEBOX_TAIL", 0x1A030, 1, 4, Set.of(), 0, ""));
        assertThatThrownBy(() -> RegisterTable.parse("t.tsv", List.of("0x100 4 - A - - -", "0x108 1 - B - - -")))
                .hasMessageContaining("t.tsv:2").hasMessageContaining("overlaps A");
        assertThatThrownBy(() -> RegisterTable.parse("t.tsv", List.of("0x102 1 - C - - -")))
                .hasMessageContaining("t.tsv:1");
        assertThatThrownBy(() -> new RegisterRegistry(RegisterTable.parse("t.tsv", List.of("0x100 1 - A - - no_such"))))
                .hasMessageContaining("no_such").hasMessageContaining("forcewake");
    }

    @Test
    void overlappingRowsAreRejected() {
        List<Register> rows = List.of(
                new Register("A", 0x100, 4, 4, EnumSet.noneOf(RegisterAttr.class), 0, ""),
                new Register("B", 0x108, 1, 4, EnumSet.noneOf(RegisterAttr.class), 0, ""));
        assertThatThrownBy(() -> RegisterTable.of(rows)).hasMessageContaining("B").hasMessageContaining("overlaps A");
        assertThatThrownBy(() -> new Register("D", MmioSpace.REGISTER_FILE_SIZE, 1, 4, Set.of(), 0, ""))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
