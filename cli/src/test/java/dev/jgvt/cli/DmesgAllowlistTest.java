package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

final class DmesgAllowlistTest {
    private static final String LIST = """
            # comment
            probe fails
            ERROR reset request timed out # RING_RESET_CTL
            WARNING intel_sseu # FUSE2
            ERROR? DPLL0 not locked # LCPLL timing
            """;

    @Test
    void theCheckedInListParses() throws Exception {
        DmesgAllowlist list = DmesgAllowlist.load();
        assertThat(list.entries()).allSatisfy(e -> assertThat(e.why()).isNotBlank());
    }

    @Test
    void linesNoEntryAllowsAreUnexpectedAndRequiredEntriesThatMatchNothingAreStale() {
        DmesgAllowlist list = DmesgAllowlist.parse(LIST);
        assertThat(list.probeSucceeds()).isFalse();
        DmesgAllowlist.Verdict verdict = list.check(
                List.of("i915 0000:00:03.0: [drm] *ERROR* GT0: rcs'0 reset request timed out", "i915: *ERROR* something new"),
                List.of());
        assertThat(verdict.unexpected()).containsExactly("ERROR: i915: *ERROR* something new");
        assertThat(verdict.stale()).extracting(DmesgAllowlist.Entry::line).containsExactly(4);
        assertThat(verdict.clean()).isFalse();
        assertThat(verdict.toString()).contains("something new").contains("intel_sseu");
    }

    @Test
    void optionalEntriesMayBeAbsentAndAWarningDoesNotMatchAnErrorEntry() {
        DmesgAllowlist list = DmesgAllowlist.parse(LIST);
        DmesgAllowlist.Verdict verdict = list.check(List.of("x reset request timed out"),
                List.of("WARNING: CPU: 0 PID: 1 at drivers/gpu/drm/i915/gt/intel_sseu.c:1 intel_sseu_info_init+0x1/0x2 [i915]"));
        assertThat(verdict.clean()).as(verdict.toString()).isTrue();
        assertThat(list.check(List.of("x reset request timed out"), List.of("WARNING: reset request timed out")).unexpected())
                .hasSize(1);
    }

    @Test
    void malformedListsAreRejectedWithTheLine() {
        assertThatThrownBy(() -> DmesgAllowlist.parse("ERROR x # y\n")).hasMessageContaining("probe");
        assertThatThrownBy(() -> DmesgAllowlist.parse("probe maybe\n")).hasMessageContaining("line 1");
        assertThatThrownBy(() -> DmesgAllowlist.parse("probe fails\nERROR no reason\n")).hasMessageContaining("line 2");
        assertThatThrownBy(() -> DmesgAllowlist.parse("probe fails\nINFO x # y\n")).hasMessageContaining("unknown directive");
    }
}
