package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** What {@link GuestPrograms#check} accepts of a guest's console: totals lines, and the hang's dmesg lines only in their window. */
final class GuestProgramsTest {
    private static final String HANG = """
            [   26.400000] jgvt-mark: run jgvt-hang
            [   45.474219] i915 0000:00:03.0: [drm] GPU HANG: ecode 9:1:00000000, in jgvt-hang [163]
            [   45.475907] i915 0000:00:03.0: [drm] Resetting rcs0 for stopped heartbeat on rcs0
            [   45.477708] i915 0000:00:03.0: [drm] jgvt-hang[163] context reset due to GPU hang
            """;

    @Test
    void aCleanRunWithTheHangsThreeLinesInItsWindowPasses() throws Exception {
        GuestPrograms.Results results = GuestPrograms.check(boot(2, dmesg(HANG + "[   46.000000] jgvt-mark: run jgvt-store\n")), true);
        assertThat(results.runs()).extracting(GuestPrograms.Run::program).containsExactly("jgvt-hang", "jgvt-store");
        assertThat(results.engines()).containsExactly("rcs0", "bcs0", "vcs0", "vecs0");
        results.assertChecked("jgvt-store", 512);
        assertThatThrownBy(() -> results.assertChecked("jgvt-store", 513)).isInstanceOf(AssertionError.class);
    }

    @Test
    void aHangLineOutsideTheHangProgramsWindowFails() throws Exception {
        String moved = "[   20.000000] jgvt-mark: run jgvt-store\n"
                + "[   21.000000] i915 0000:00:03.0: [drm] Resetting rcs0 for stopped heartbeat on rcs0\n" + HANG;
        assertThatThrownBy(() -> GuestPrograms.check(boot(2, dmesg(moved)), true)).hasMessageContaining("(during jgvt-store) i915");
    }

    @Test
    void aMissingHangLineAnUnknownI915LineOrAHangWithoutTheHangProgramFail() throws Exception {
        String missing = HANG.replace("[   45.475907] i915 0000:00:03.0: [drm] Resetting rcs0 for stopped heartbeat on rcs0\n", "");
        assertThatThrownBy(() -> GuestPrograms.check(boot(2, dmesg(missing)), true)).hasMessageContaining("Resetting rcs0");
        String unknown = HANG + "[   46.000000] i915 0000:00:03.0: [drm] something new\n";
        assertThatThrownBy(() -> GuestPrograms.check(boot(2, dmesg(unknown)), true)).hasMessageContaining("something new");
        assertThatThrownBy(() -> GuestPrograms.check(boot(2, dmesg(HANG)), false)).hasMessageContaining("GPU HANG");
    }

    @Test
    void aMismatchOrAMissingTotalsLineFails() throws Exception {
        String wrong = console(dmesg("")).replace("mismatches 0", "mismatches 3");
        assertThatThrownBy(() -> GuestPrograms.check(boot(2, wrong), false)).hasMessageContaining("mismatches");
        assertThatThrownBy(() -> GuestPrograms.check(boot(3, console(dmesg(""))), false)).hasMessageContaining("one totals line");
    }

    @Test
    void aGpuWedgedAtInitFailsWithItsCause() throws Exception {
        String wedged = console(dmesg("")).replace("[    1.000000] [drm] Initialized",
                "[    0.900000] i915 0000:00:03.0: [drm] CI tainted: 0x9 by intel_gt_init+0xb2/0x2f0 [i915]\n[    1.000000] [drm] Initialized");
        assertThatThrownBy(() -> GuestPrograms.check(boot(2, wedged), false)).hasMessageContaining("wedged at init");
    }

    private static String dmesg(String programs) {
        return "jgvt-dmesg-begin\n[    1.000000] [drm] Initialized i915 1.6.0 for 0000:00:03.0 on minor 0\n" + programs + "jgvt-dmesg-end\n";
    }

    private static String console(String dmesg) {
        return """
                jgvt-hang: values checked 1091, mismatches 0, submissions 18, fences 2
                jgvt-store: engines rcs0 bcs0 vcs0 vecs0; 4 contexts x 1 batches x 32 stores per engine
                jgvt-store: values checked 512, mismatches 0, submissions 16, fences 0
                """ + dmesg;
    }

    private static LinuxGuest.Boot boot(int commands, String consoleOrDmesg) throws Exception {
        String console = consoleOrDmesg.startsWith("jgvt-dmesg-begin") ? console(consoleOrDmesg) : consoleOrDmesg;
        StringBuilder statuses = new StringBuilder();
        for (int i = 1; i <= commands; i++) {
            statuses.append(i > 1 ? "," : "").append("\"0").append(i).append("\":0");
        }
        JsonNode summary = new ObjectMapper().readTree("{\"outcome\":\"powered-off\",\"guest\":{\"i915Initialized\":true,\"i915Wedged\":0,"
                + "\"i915Errors\":[],\"warnings\":[],\"commands\":{" + statuses + "}}}");
        return new LinuxGuest.Boot(0, "", "", summary, console);
    }
}
