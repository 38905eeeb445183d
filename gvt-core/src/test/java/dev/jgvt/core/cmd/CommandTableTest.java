package dev.jgvt.core.cmd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.hw.Engine;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

final class CommandTableTest {
    private static final CommandTable GEN9 = CommandTable.gen9();

    @Test
    void gen9HasGvtsMiAndBlitterRowsAndAFullRenderSet() {
        List<CommandDef> rows = GEN9.rows();
        assertThat(rows.stream().filter(d -> d.type() == CommandType.MI)).hasSize(43);
        assertThat(rows.stream().filter(d -> d.type() == CommandType.BLITTER)).hasSize(25);
        assertThat(rows.stream().filter(d -> d.type() == CommandType.RENDER).count()).isGreaterThan(100);
        assertThat(rows.stream().filter(d -> d.type() == CommandType.VIDEO).map(CommandDef::name))
                .contains("MFX_PIPE_MODE_SELECT", "HCP_PIPE_MODE_SELECT", "VDENC_PIPE_MODE_SELECT", "HUC_START");
        assertThat(rows.stream().filter(d -> d.type() == CommandType.VEBOX)).hasSize(3);
        assertThat(rows.stream().map(CommandDef::name).distinct().count()).isEqualTo(rows.size());
    }

    @Test
    void wellKnownHeadersDecode() {
        assertThat(GEN9.find(Engine.RCS, 0x11000001).name()).isEqualTo("MI_LOAD_REGISTER_IMM");
        assertThat(GEN9.find(Engine.RCS, 0x7A000004).name()).isEqualTo("PIPE_CONTROL");
        assertThat(GEN9.find(Engine.RCS, 0x7A000004).length(0x7A000004)).isEqualTo(6);
        assertThat(GEN9.find(Engine.RCS, 0x69040000).name()).isEqualTo("PIPELINE_SELECT");
        assertThat(GEN9.find(Engine.RCS, 0x61010011).name()).isEqualTo("STATE_BASE_ADDRESS");
        assertThat(GEN9.find(Engine.RCS, 0x7B000005).name()).isEqualTo("3DPRIMITIVE");
        assertThat(GEN9.find(Engine.BCS, 0x54C00008).name()).isEqualTo("XY_SRC_COPY_BLT");
        assertThat(GEN9.find(Engine.BCS, 0x54C00008).length(0x54C00008)).isEqualTo(10);
        assertThat(GEN9.find(Engine.VCS, 0x73800000).name()).isEqualTo("HCP_PIPE_MODE_SELECT");
        assertThat(GEN9.find(Engine.VCS2, 0x70000002).name()).isEqualTo("MFX_PIPE_MODE_SELECT");
        assertThat(GEN9.find(Engine.VECS, 0x74000004).name()).isEqualTo("VEBOX_SURFACE_STATE");
        assertThat(GEN9.find(Engine.VCS, 0x74000004).name()).isEqualTo("MFX_VP8_PIC_STATE");
        assertThat(GEN9.find(Engine.RCS, 0x54C00008)).isNull();
        assertThat(GEN9.find(Engine.BCS, 0x20000000)).isNull();
        assertThat(GEN9.findOnAnyEngine(0x54C00008).name()).isEqualTo("XY_SRC_COPY_BLT");
    }

    @Test
    void everyRowIsFoundOnItsEnginesWithItsLength() {
        SplittableRandom random = new SplittableRandom(7);
        for (CommandDef def : GEN9.rows()) {
            int len = def.lengthBits() == 0 ? def.fixedLength() : 2 + random.nextInt(def.maxLength() - 1);
            int header = def.header(len);
            for (Engine engine : Engine.values()) {
                CommandDef found = GEN9.find(engine, header);
                if (def.legalOn(engine)) {
                    assertThat(found).as(def.name() + " on " + engine).isEqualTo(def);
                    assertThat(found.length(header)).isEqualTo(len);
                    assertThat(CommandTable.length(GEN9.entry(engine, header), header)).isEqualTo(len);
                } else {
                    assertThat(found).as(def.name() + " on " + engine).isNotEqualTo(def);
                }
            }
        }
    }

    static LongStream seeds() {
        long base = Long.getLong("gvt.seed", 0x5EED);
        return LongStream.range(0, 8).map(i -> base + i);
    }

    /** The dense lookup agrees with a linear search over the rows for random headers. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void denseLookupAgreesWithALinearSearch(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 20_000; i++) {
            int header = random.nextInt();
            if (random.nextBoolean()) {
                header = (header & 0x1FFFFFFF) | (random.nextInt(4) << 29);
            }
            for (Engine engine : Engine.values()) {
                CommandDef expected = null;
                for (CommandDef def : GEN9.rows()) {
                    if (def.legalOn(engine) && header >>> (32 - def.opcodeBits()) == def.opcode()) {
                        assertThat(expected).as("two rows match 0x%08x", header).isNull();
                        expected = def;
                    }
                }
                assertThat(GEN9.find(engine, header)).as("seed %d header 0x%08x on %s", seed, header, engine)
                        .isEqualTo(expected);
            }
        }
    }

    @Test
    void duplicateOpcodesOnOneEngineAreRejectedAtLoad() {
        assertThatThrownBy(() -> CommandTable.parse("test", List.of("a.tsv"), List.of(List.of(
                "MI_A  mi:0x05  RCS|BCS  fixed:1  -  -",
                "MI_B  mi:0x05  BCS      fixed:1  -  -"))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("MI_B").hasMessageContaining("MI_A").hasMessageContaining("BCS");
        assertThatThrownBy(() -> CommandTable.parse("test", List.of("a.tsv", "b.tsv"), List.of(
                List.of("FOO  3d:3/0/0x10  RCS  var:8  -  -"),
                List.of("BAR  3d:3/0/0x10  RCS  var:8  -  -"))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("duplicate opcode");
        CommandTable ok = CommandTable.parse("test", List.of("a.tsv"), List.of(List.of(
                "MI_A  mi:0x05  RCS  fixed:1  -  -",
                "MI_B  mi:0x05  BCS  fixed:1  -  -")));
        assertThat(ok.find(Engine.BCS, 0x02800000).name()).isEqualTo("MI_B");
    }

    @Test
    void malformedRowsNameFileAndLine() {
        assertThatThrownBy(() -> CommandTable.parse("test", List.of("x.tsv"), List.of(List.of(
                "# comment", "MI_A  mi:0x05  RCS  fixed:1  -"))))
                .hasMessageContaining("x.tsv:2").hasMessageContaining("6 columns");
        assertThatThrownBy(() -> CommandTable.parse("test", List.of("x.tsv"), List.of(List.of(
                "MI_A  mi:0x45  RCS  fixed:1  -  -"))))
                .hasMessageContaining("x.tsv:1").hasMessageContaining("6 bits");
        assertThatThrownBy(() -> CommandTable.parse("test", List.of("x.tsv"), List.of(List.of(
                "MI_A  mi:0x05  RCS  flex:1  -  -"))))
                .hasMessageContaining("bad length rule");
        assertThatThrownBy(() -> CommandTable.parse("test", List.of("x.tsv"), List.of(List.of(
                "MI_A  mi:0x05  RCS  fixed:1  -  frobnicate"))))
                .hasMessageContaining("x.tsv:1");
    }
}
