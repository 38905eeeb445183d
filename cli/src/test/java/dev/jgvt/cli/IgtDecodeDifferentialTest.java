package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jgvt.core.cmd.CommandDef;
import dev.jgvt.core.cmd.CommandTable;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.testing.genxml.Gen9Genxml;
import dev.jgvt.testing.genxml.Gen9Genxml.Fact;
import dev.jgvt.testing.igt.IntelDumpDecode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command of the scanner's Gen9 table, one at a time, through intel-gpu-tools' {@code intel_dump_decode}
 * ({@code -d 0x1912}, Skylake GT2) and through {@code gvt decode}: wherever IGT knows the command (names it), both
 * must end it at the same dword, at the row's nominal length and with the top bit of its length field set. Each
 * command is followed by a sentinel (MI_ARB_CHECK) so IGT's boundary is the offset of the next command it prints;
 * zero payload dwords that IGT does not count show up as MI_NOOPs before the sentinel. IGT's decoder predates Gen8
 * for much of the 3D set; where it is wrong for Gen9 the command is listed in {@code igt-decode-exceptions.tsv}
 * (testing module, shared with {@code CorpusIgtDifferentialTest}) with the source that says so, and a listed
 * command IGT now agrees on fails the test (the list cannot go stale). Skipped with a reason when the tool is
 * absent ({@code .ci/run} installs it).
 */
final class IgtDecodeDifferentialTest {
    private static final int SENTINEL = 0x05 << 23; // MI_ARB_CHECK
    private static final CommandTable GEN9 = CommandTable.gen9();

    @TempDir
    Path dir;

    /** The length to test a row at: its fixed length, genxml's length, or a small legal one. */
    static int nominalLength(CommandDef def, Map<String, Fact> facts) {
        if (def.lengthBits() == 0 || def.fixedLength() != 0) {
            return def.fixedLength();
        }
        Fact f = facts.get(def.name());
        if (f != null && f.fixedLength() >= 2 && f.fixedLength() <= def.maxLength()) {
            return f.fixedLength();
        }
        return Math.min(def.maxLength(), def.name().startsWith("XY_") ? 10 : 4);
    }

    /**
     * The lengths to test a row at: its nominal length and, for a length field, the length with only the field's top
     * bit set, so a decoder that reads fewer length bits than the table (or genxml) is caught.
     */
    static List<Integer> lengths(CommandDef def, Map<String, Fact> facts) {
        int nominal = nominalLength(def, facts);
        if (def.lengthBits() == 0 || def.fixedLength() != 0) {
            return List.of(nominal);
        }
        int top = (1 << (def.lengthBits() - 1)) + 2;
        return top == nominal ? List.of(nominal) : List.of(nominal, top);
    }

    static Engine anyEngine(CommandDef def) {
        for (Engine e : Engine.values()) {
            if (def.legalOn(e)) {
                return e;
            }
        }
        throw new IllegalStateException(def.name());
    }

    @Test
    void everyCommandIgtKnowsEndsWhereOursDoes() throws Exception {
        assumeTrue(IntelDumpDecode.available(),
                IntelDumpDecode.TOOL + " is not installed (Debian package intel-gpu-tools)");
        Map<String, Fact> facts = new LinkedHashMap<>();
        Gen9Genxml.facts().forEach(f -> facts.put(f.name(), f));
        Map<String, String> exceptions = IntelDumpDecode.exceptions();
        Map<String, String> disagreements = new TreeMap<>();
        List<String> agreed = new ArrayList<>();
        int unknownToIgt = 0;
        for (CommandDef def : GEN9.rows()) {
            String verdict = null;
            for (int len : lengths(def, facts)) {
                int[] dws = new int[len + 1];
                dws[0] = def.header(len);
                dws[len] = SENTINEL;
                Path file = DecodeCommandTest.write(dir, def.name() + ".bin", dws);
                CliRun ours = CliRun.of("decode", "--engine",
                        anyEngine(def).name().toLowerCase(java.util.Locale.ROOT), file.toString());
                assertThat(ours.out()).as(def.name()).startsWith(String.format("0x%08x %s %d", 0, def.name(), len));
                List<IntelDumpDecode.Command> igt = IntelDumpDecode.decode(file);
                String igtName = igt.isEmpty() || igt.getFirst().offset() != 0 ? null : igt.getFirst().text();
                long igtEnd = igt.size() < 2 ? -1 : igt.get(1).offset() / 4;
                if (igtName == null || igtName.contains("UNKNOWN")) {
                    verdict = "unknown";
                    break;
                }
                if (igtEnd != len) {
                    verdict = "IGT (" + igtName + ") ends it after " + (igtEnd < 0 ? "the sentinel"
                            : igtEnd + " dwords") + ", the table after " + len;
                    break;
                }
            }
            if (verdict == null) {
                agreed.add(def.name());
            } else if (verdict.equals("unknown")) {
                unknownToIgt++;
            } else {
                disagreements.put(def.name(), verdict);
            }
        }
        System.out.printf("IGT differential: %d table rows, %d unknown to IGT, %d agree, %d disagree (%d documented)%n",
                GEN9.rows().size(), unknownToIgt, agreed.size(), disagreements.size(),
                disagreements.keySet().stream().filter(exceptions::containsKey).count());
        Map<String, String> undocumented = new TreeMap<>(disagreements);
        undocumented.keySet().removeAll(exceptions.keySet());
        List<String> stale = exceptions.keySet().stream().filter(n -> !disagreements.containsKey(n)).toList();
        assertThat(undocumented).as("length disagreements with IGT not in igt-decode-exceptions.tsv").isEmpty();
        assertThat(stale).as("listed IGT exceptions IGT now agrees on, or no longer knows").isEmpty();
        assertThat(agreed).as("IGT must know a good part of the table for this test to mean anything").hasSizeGreaterThan(40);
    }
}
