package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.testing.genxml.Gen9Genxml;
import dev.jgvt.testing.genxml.Gen9Genxml.Fact;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The simulated GPU's decoder against the genxml extract, without the scanner's tables: every genxml command
 * decodes on every engine genxml names with genxml's name and length for every value of its length field (or as
 * the shared dispute list decides), and every decoder row genxml lacks is one the dispute list names as absent.
 */
final class HwCommandTableTest {
    private static final HwCommandTable HW = HwCommandTable.gen9();

    @Test
    void everyGenxmlCommandDecodesLikeGenxml() {
        Map<String, Map<String, String>> disputed = Gen9Genxml.disputed();
        List<String> failures = new ArrayList<>();
        for (Fact f : Gen9Genxml.facts()) {
            boolean lengthDisputed = disputed.getOrDefault(f.name(), Map.of()).containsKey("length");
            for (int cls : f.engineClasses()) {
                HwCommand c = HW.find(cls, f.header());
                if (c == null || !c.name().equals(f.name())) {
                    failures.add(f.name() + " on class " + cls + ": decoder has " + (c == null ? "nothing" : c.name()));
                    continue;
                }
                int max = f.lengthBits() == 0 ? 0 : Math.min((1 << f.lengthBits()) - 1, 600);
                for (int field = 0; field <= max && !lengthDisputed; field++) {
                    int h = f.header() | field;
                    if (HW.find(cls, h) != c || c.length(h) != f.length(field)) {
                        failures.add(f.name() + " on class " + cls + ": field " + field + " genxml " + f.length(field)
                                + ", decoder " + c.length(h));
                        break;
                    }
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void rowsGenxmlLacksAreTheDocumentedOnes() {
        Map<String, Map<String, String>> disputed = Gen9Genxml.disputed();
        List<String> genxmlNames = Gen9Genxml.facts().stream().map(Fact::name).toList();
        for (HwCommand c : HW.rows()) {
            if (!genxmlNames.contains(c.name())) {
                assertThat(disputed.getOrDefault(c.name(), Map.of())).as(c.name()).containsKey("absent");
            }
        }
        assertThat(HW.rows()).hasSizeGreaterThan(270);
    }

    @Test
    void wellKnownHeaders() {
        assertThat(HW.find(0, 0x11000001).name()).isEqualTo("MI_LOAD_REGISTER_IMM");
        assertThat(HW.find(0, 0x7A000004).length(0x7A000004)).isEqualTo(6);
        assertThat(HW.find(1, 0x50800008).name()).isEqualTo("XY_FAST_COPY_BLT");
        assertThat(HW.find(0, 0x50800008)).isNull();
        assertThat(HW.findOnAnyEngine(0x50800008).name()).isEqualTo("XY_FAST_COPY_BLT");
        assertThat(HW.find(2, 0x75010000 | 30).name()).isEqualTo("SFC_STATE");
        assertThat(HW.find(3, 0x75010000 | 30).length(0x75010000 | 30)).isEqualTo(32);
        assertThat(HW.find(0, 0x13000002)).as("MI_FLUSH_DW is not a render command").isNull();
    }

    @Test
    void overlappingRowsAndMalformedLinesFailTheLoad() {
        List<HwCommand> two = HwCommandTable.parse(List.of("A RCS 0x11000000/0xff800000 len:8+2 x",
                "B RCS,BCS 0x11000000/0xffff0000 fixed:1 x"));
        assertThatThrownBy(() -> new HwCommandTable(two)).hasMessageContaining("B and A both claim");
        assertThatThrownBy(() -> HwCommandTable.parse(List.of("# c", "A XCS 0x0/0xffff0000 fixed:1 x")))
                .hasMessageContaining("gen9-hw-commands.tsv:2");
    }
}
