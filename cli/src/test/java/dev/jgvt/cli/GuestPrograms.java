package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The project's guest programs ({@code guest/programs/jgvt-*.c}) as a Linux-guest test runs them: where
 * {@code prepare-guest-root} compiled them in the Debian root, the command line that runs one with a dmesg mark before
 * it, and what a boot that ran them must show: every program's totals line with no mismatch, every command's exit
 * status 0, and a dmesg without i915 *ERROR*, WARNING or any other i915 line during the programs but the lines a
 * deliberate hang makes ({@link #HANG_LINES}, only while {@code jgvt-hang} runs).
 */
final class GuestPrograms {
    /** i915's lines for the hang jgvt-hang makes and the engine reset that ends it; each must appear in its window. */
    static final List<Pattern> HANG_LINES = List.of(
            Pattern.compile("^i915 0000:00:03\\.0: \\[drm\\] GPU HANG: ecode 9:1:[0-9a-f]{8}, in jgvt-hang \\[\\d+\\]$"),
            Pattern.compile("^i915 0000:00:03\\.0: \\[drm\\] Resetting rcs0 for (stopped heartbeat on rcs0|preemption time out)$"),
            Pattern.compile("^i915 0000:00:03\\.0: \\[drm\\] jgvt-hang\\[\\d+\\] context reset due to GPU hang$"));
    /**
     * Lines i915 may add in the hang's window, allowed there, not required: its notice when {@code jgvt-hang -i} sets a
     * shorter heartbeat interval, and what it adds to its first hang report with error capture (the request to file a
     * bug, where the crash dump went).
     */
    static final List<Pattern> HANG_MAY_ADD = List.of(
            Pattern.compile("^i915 0000:00:03\\.0: \\[drm\\] rcs0 heartbeat interval adjusted to a non-default value which may cause "
                    + "engine resets to target innocent contexts!$"),
            Pattern.compile("^\\[drm\\] GPU hangs can indicate a bug anywhere in the entire gfx stack, including userspace\\.$"),
            Pattern.compile("^\\[drm\\] Please file a _new_ bug report at https://\\S+$"),
            Pattern.compile("^\\[drm\\] Please see https://\\S+ for details\\.$"),
            Pattern.compile("^\\[drm\\] drm/i915 developers can then reassign to the right component if it's not a kernel issue\\.$"),
            Pattern.compile("^\\[drm\\] The GPU crash dump is required to analyze GPU hangs, so please always attach it\\.$"),
            Pattern.compile("^\\[drm\\] GPU crash dump saved to /sys/class/drm/card0/error$"));
    /** The end of i915's probe, which under TCG may be logged after the first program started. */
    private static final Pattern LATE_PROBE = Pattern.compile("^i915 0000:00:03\\.0: \\[drm\\] fb0: i915drmfb frame buffer device$");
    /**
     * Kernel lines that are GPU or driver problems whoever logs them (an i915 line is one during the programs anyway).
     * Not the kernel's own stall reports (RCU stalls, soft lockups, with their stack dumps): under TCG on a loaded host
     * the guest's CPU gets too little time, and those are about the host's load, not the vGPU.
     */
    private static final Pattern PROBLEM = Pattern.compile(
            "WARNING|\\*ERROR\\*|Oops|segfault|general protection|\\b([Hh]ang|HANG|[Hh]ung|[Rr]eset\\w*|wedged|banned)\\b");
    private static final Pattern KERNEL = Pattern.compile("^\\[\\s*\\d+\\.\\d+\\] (.*)$");
    private static final Pattern TOTALS = Pattern.compile(
            "(?m)^(jgvt-[a-z]+): values checked (\\d+), mismatches (\\d+), submissions (\\d+), fences (\\d+)$");
    private static final Pattern ENGINES = Pattern.compile("(?m)^jgvt-store: engines ([a-z0-9 ]+);");
    private static final String RUN_MARK = "jgvt-mark: run ";

    private GuestPrograms() {}

    /**
     * The directory in the guest root holding the programs compiled from the distribution's sources, as
     * {@code guest/prepare-guest-root --programs-dir} names it: {@code /opt/jgvt/programs/HASH/bin}, HASH naming the
     * sources ({@code gvt qemu} runs the script, which compiles them there when they are not yet).
     */
    static String directory(Path distribution) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(distribution.resolve("guest/prepare-guest-root").toString(), "--programs-dir")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as("prepare-guest-root --programs-dir: %s", out).isZero();
        assertThat(out).as("prepare-guest-root --programs-dir").matches("/opt/jgvt/programs/[0-9a-f]{16}/bin");
        return out;
    }

    /** A guest command line running {@code program args} from the root, with a dmesg mark naming it first. */
    static String run(String bin, String programAndArgs) {
        String program = programAndArgs.split(" ")[0];
        return "echo '" + RUN_MARK + program + "' > /dev/kmsg; inroot " + bin + "/" + programAndArgs;
    }

    /** One program's totals line. */
    record Run(String program, long checked, long mismatches, long submissions, long fences) {}

    /** The programs of one boot, in the order they ran, and the engines jgvt-store found. */
    record Results(List<Run> runs, List<String> engines) {
        /** Asserts the first run of {@code program} checked at least {@code values} values. */
        Results assertChecked(String program, long values) {
            Run run = runs.stream().filter(r -> r.program().equals(program)).findFirst().orElseThrow(
                    () -> new AssertionError("no totals line of " + program + " in " + runs));
            assertThat(run.checked()).as("values %s checked", program).isGreaterThanOrEqualTo(values);
            return this;
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder();
            for (Run r : runs) {
                s.append(s.isEmpty() ? "" : ", ").append(r.program()).append(' ').append(r.checked()).append(" checked/")
                        .append(r.mismatches()).append(" wrong");
            }
            return s.toString();
        }
    }

    /**
     * Asserts what every boot running the programs must show and returns the programs' totals. With {@code hang},
     * the boot ran jgvt-hang: its lines ({@link #HANG_LINES}) must appear while it ran; without, no such line at all.
     */
    static Results check(LinuxGuest.Boot boot, boolean hang) {
        String console = boot.console();
        JsonNode guest = boot.guest();
        assertThat(boot.summary().path("outcome").asText()).as(boot.describe()).isEqualTo("powered-off");
        assertThat(guest.path("i915Initialized").asBoolean()).isTrue();
        // i915 waits at most 200 ms (I915_GEM_IDLE_TIMEOUT) for its first requests on the engines; when the host
        // answers later (seen on a host overloaded far beyond its cores), it declares the GPU wedged at init
        assertThat(console).as("i915 declared the GPU wedged at init (its first requests did not complete within 200 ms)")
                .doesNotContainPattern("CI tainted: 0x[0-9a-f]+ by intel_gt_init");
        assertThat(guest.path("i915Wedged").asInt(-1)).as("i915_wedged").isZero();
        assertThat(boot.exitCode()).as("gvt qemu's exit status (a program failed?):\n%s", failures(console)).isZero();
        List<Integer> statuses = new ArrayList<>();
        guest.path("commands").forEach(c -> statuses.add(c.asInt(-1)));
        assertThat(statuses).as("the programs' exit statuses:\n%s", failures(console)).isNotEmpty().allMatch(s -> s == 0);
        assertThat(guest.path("i915Errors").size()).as("i915 *ERROR* lines: %s", guest.path("i915Errors")).isZero();
        assertThat(guest.path("warnings").size()).as("WARNING lines: %s", guest.path("warnings")).isZero();

        List<Run> runs = new ArrayList<>();
        Matcher t = TOTALS.matcher(console);
        while (t.find()) {
            runs.add(new Run(t.group(1), Long.parseLong(t.group(2)), Long.parseLong(t.group(3)), Long.parseLong(t.group(4)),
                    Long.parseLong(t.group(5))));
        }
        assertThat(runs).as("one totals line per program").hasSize(statuses.size());
        assertThat(runs).as("mismatches").allMatch(r -> r.mismatches() == 0 && r.checked() > 0);
        Matcher e = ENGINES.matcher(console);
        List<String> engines = e.find() ? List.of(e.group(1).strip().split(" ")) : List.of();

        checkDmesg(console, hang);
        return new Results(List.copyOf(runs), engines);
    }

    private static void checkDmesg(String console, boolean hang) {
        int begin = console.indexOf("jgvt-dmesg-begin");
        int end = console.indexOf("jgvt-dmesg-end");
        assertThat(begin).as("the guest printed its dmesg").isNotNegative();
        assertThat(end).isGreaterThan(begin);
        boolean programs = false;
        String window = null;
        List<String> unexpected = new ArrayList<>();
        int[] seen = new int[HANG_LINES.size()];
        for (String line : console.substring(begin, end).split("\n")) {
            Matcher k = KERNEL.matcher(line.strip());
            if (!k.find()) {
                continue;
            }
            String text = k.group(1);
            if (text.startsWith(RUN_MARK)) {
                programs = true;
                window = text.substring(RUN_MARK.length()).strip();
                continue;
            }
            boolean i915 = text.startsWith("i915 ") || text.startsWith("[drm]");
            if (!(programs && i915) && !PROBLEM.matcher(text).find()) {
                continue;
            }
            if (LATE_PROBE.matcher(text).find()) {
                continue;
            }
            boolean allowed = false;
            if (hang && "jgvt-hang".equals(window)) {
                for (int i = 0; i < HANG_LINES.size(); i++) {
                    if (HANG_LINES.get(i).matcher(text).find()) {
                        seen[i]++;
                        allowed = true;
                    }
                }
                allowed |= HANG_MAY_ADD.stream().anyMatch(p -> p.matcher(text).find());
            }
            if (!allowed) {
                unexpected.add((window == null ? "(before the programs) " : "(during " + window + ") ") + text);
            }
        }
        assertThat(unexpected).as("dmesg lines no allowlist entry covers").isEmpty();
        for (int i = 0; i < HANG_LINES.size() && hang; i++) {
            assertThat(seen[i]).as("dmesg line while jgvt-hang ran: %s", HANG_LINES.get(i)).isPositive();
        }
    }

    /** The programs' failure and mismatch lines, for an assertion's message. */
    private static String failures(String console) {
        StringBuilder s = new StringBuilder();
        console.lines().filter(l -> l.startsWith("jgvt-") && (l.contains("FAILED") || l.contains("mismatch") || l.contains("status=")))
                .forEach(l -> s.append(l).append('\n'));
        return s.toString();
    }
}
