package dev.jgvt.core.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The regression corpus of real guest command streams: what Linux's i915 and IGT submitted in the Linux-guest
 * harness, dumped by {@code gvt qemu --scan-dump --scan-ppgtt-batches all} (how: corpus/README.md), so it holds
 * the rings, the privileged batches and the non-privileged (PPGTT) batches. Every workload is scanned again with
 * the live path's policy and the diagnostic scan of PPGTT batches on, and must get the verdict it got live, with
 * every dumped batch entered and scanned to the size it had live; all were accepted. (The capture also had
 * workloads whose PPGTT batch the diagnostic rejected - gem_latency, gem_wsim: GVT-g's rules for privileged batches,
 * reported, not held against the workload - which the corpus leaves out, see corpus/README.md; a rejection the
 * replay finds must still be in a PPGTT batch.)
 */
class GuestStreamCorpusTest {
    static final String CORPUS = "corpus/i915-igt.scan.gz";
    static final ScanOptions OPTIONS = ScanOptions.defaults().withScanPpgttBatches(true);

    /** The corpus's workloads, each its ring record and batch records. */
    static List<List<ScanDumpRecord>> corpus() throws IOException {
        try (InputStream in = GuestStreamCorpusTest.class.getResourceAsStream(CORPUS)) {
            assertThat(in).as(CORPUS).isNotNull();
            return ScanDumpFile.workloads(ScanDumpFile.read(in));
        }
    }

    /** Replays every workload; one line per disagreement, naming the workload and the record. */
    static List<String> disagreements(List<List<ScanDumpRecord>> workloads, ScanReplay replay) {
        List<String> problems = new ArrayList<>();
        for (List<ScanDumpRecord> w : workloads) {
            ScanDumpRecord ring = w.getFirst();
            String name = "workload " + ring.workload() + " on " + ring.engine();
            ScanRejectedException e = replay.scan(w);
            String verdict = ScanDumpRecord.verdict(e);
            if (!verdict.equals(ring.verdict())) {
                problems.add(name + ": live " + ring.verdict() + ", now " + verdict
                        + (e == null ? "" : " (" + e.getMessage() + ")"));
                continue;
            }
            if (e != null && !replay.rejectedInPpgttBatch()) {
                problems.add(name + ": a ring or privileged batch was rejected (" + e.getMessage() + ")");
                continue;
            }
            if (e == null) {
                problems.addAll(unscanned(name, w, replay.batches()));
            }
        }
        return problems;
    }

    /** Each dumped batch must have been entered, in order, in its address space and to its dumped size. */
    private static List<String> unscanned(String name, List<ScanDumpRecord> w, ShadowBatches scanned) {
        List<String> problems = new ArrayList<>();
        int records = w.size() - 1;
        for (int i = 0; i < records; i++) {
            ScanDumpRecord r = w.get(i + 1);
            String record = name + ", record " + (i + 1) + " (" + (r.ppgtt() ? "ppgtt" : "ggtt") + " batch at 0x"
                    + Long.toHexString(r.gma()) + ", " + r.bytes().length + " bytes)";
            if (i >= scanned.count()) {
                problems.add(record + ": not scanned by the replay");
            } else if (scanned.guestAddress(i) != r.gma() || scanned.ppgtt(i) != r.ppgtt()) {
                problems.add(record + ": the replay scanned " + (scanned.ppgtt(i) ? "ppgtt" : "ggtt") + " 0x"
                        + Long.toHexString(scanned.guestAddress(i)) + " instead");
            } else if (scanned.size(i) != r.bytes().length) {
                problems.add(record + ": the replay scanned " + scanned.size(i) + " bytes of it");
            }
        }
        if (scanned.count() > records) {
            problems.add(name + ": the replay scanned " + scanned.count() + " batches, the dump holds " + records);
        }
        return problems;
    }

    @Test
    void everyDumpedWorkloadGetsItsLiveVerdictWithEveryBatchScanned() throws IOException {
        List<List<ScanDumpRecord>> workloads = corpus();
        assertThat(workloads).hasSizeGreaterThan(50);
        try (ScanReplay replay = new ScanReplay(OPTIONS)) {
            assertThat(disagreements(workloads, replay)).isEmpty();
        }
        Map<Engine, int[]> counts = new EnumMap<>(Engine.class); // rings, GGTT batches, PPGTT batches
        int accepted = 0;
        for (List<ScanDumpRecord> w : workloads) {
            accepted += w.getFirst().verdict().equals(ScanDumpRecord.ACCEPTED) ? 1 : 0;
            for (ScanDumpRecord r : w) {
                int[] c = counts.computeIfAbsent(r.engine(), e -> new int[3]);
                c[r.level() == BufferKind.RING ? 0 : r.ppgtt() ? 2 : 1]++;
            }
        }
        assertThat(counts).containsKeys(Engine.RCS, Engine.BCS, Engine.VCS, Engine.VECS);
        assertThat(counts.values()).as("PPGTT batches on every engine").allSatisfy(c -> assertThat(c[2]).isPositive());
        assertThat(accepted).as("all accepted live (the capture's rejected workloads are not in the corpus)")
                .isEqualTo(workloads.size());
        counts.forEach((e, c) -> System.out.printf("guest stream corpus: %s %d rings, %d GGTT batches, %d PPGTT batches%n",
                e, c[0], c[1], c[2]));
    }

    @Test
    void aCorruptedPpgttRecordFailsNamingItsWorkload() throws IOException {
        List<List<ScanDumpRecord>> workloads = corpus();
        List<ScanDumpRecord> victim = workloads.stream()
                .filter(w -> w.getFirst().verdict().equals(ScanDumpRecord.ACCEPTED) && w.size() > 1 && w.get(1).ppgtt())
                .findFirst().orElseThrow();
        ScanDumpRecord r = victim.get(1);
        byte[] bytes = r.bytes().clone();
        bytes[3] = (byte) 0xE0; // an undefined command type (7) as the first header
        List<ScanDumpRecord> corrupted = new ArrayList<>(victim);
        corrupted.set(1, new ScanDumpRecord(r.workload(), r.vgpu(), r.engine(), r.level(), r.ppgtt(), r.privileged(),
                r.gma(), r.verdict(), r.ring(), r.partition(), r.hwsp(), bytes));
        try (ScanReplay replay = new ScanReplay(OPTIONS)) {
            assertThat(disagreements(List.of(corrupted), replay)).singleElement().asString()
                    .startsWith("workload " + r.workload() + " on " + r.engine() + ": live accepted, now rejected:");
        }
    }

    @Test
    void aPpgttRecordTheReplayDoesNotReachFailsNamingIt() throws IOException {
        List<List<ScanDumpRecord>> workloads = corpus();
        List<ScanDumpRecord> victim = workloads.stream()
                .filter(w -> w.getFirst().verdict().equals(ScanDumpRecord.ACCEPTED) && w.size() > 1 && w.get(1).ppgtt())
                .findFirst().orElseThrow();
        // without the diagnostic scan the replay never enters the PPGTT batch: the dumped bytes would go unchecked
        try (ScanReplay replay = new ScanReplay(ScanOptions.defaults())) {
            assertThat(disagreements(List.of(victim), replay)).first().asString()
                    .contains("record 1 (ppgtt batch at 0x" + Long.toHexString(victim.get(1).gma()))
                    .endsWith("not scanned by the replay");
        }
    }

    @Test
    void aTruncatedRecordFailsTheReadNamingIt() throws IOException {
        byte[] raw;
        try (InputStream in = new GZIPInputStream(GuestStreamCorpusTest.class.getResourceAsStream(CORPUS))) {
            raw = in.readAllBytes();
        }
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int second = text.indexOf("\nworkload=", text.indexOf("\nworkload=") + 1);
        int header = text.indexOf('\n', second + 1);
        ByteArrayOutputStream cut = new ByteArrayOutputStream();
        cut.write(raw, 0, header + 3); // the second record's header and 2 of its bytes
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> ScanDumpFile.read(new ByteArrayInputStream(cut.toByteArray())))
                .isInstanceOf(IOException.class).hasMessageStartingWith("record 1");
    }

    /** Prints the scan rate over the corpus; a report, not a timed assertion (performance is `gvt bench scan`). */
    @Test
    void scannedBytesPerSecondIsReported() throws IOException {
        List<ScanReplay.Prepared> prepared = new ArrayList<>();
        for (List<ScanDumpRecord> w : corpus()) {
            prepared.add(ScanReplay.prepare(w));
        }
        try (ScanReplay replay = new ScanReplay(OPTIONS)) {
            for (int warm = 0; warm < 5; warm++) {
                for (ScanReplay.Prepared p : prepared) {
                    replay.scan(p);
                }
            }
            long bytesBefore = replay.bytesScanned();
            long commandsBefore = replay.commandsScanned();
            long start = System.nanoTime();
            int rounds = 0;
            while (System.nanoTime() - start < 300_000_000L) {
                for (ScanReplay.Prepared p : prepared) {
                    replay.scan(p);
                }
                rounds++;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long bytes = replay.bytesScanned() - bytesBefore;
            long commands = replay.commandsScanned() - commandsBefore;
            System.out.printf("guest stream corpus: %d workloads x %d rounds, %d bytes, %d commands in %.3f s: "
                    + "%.1f MB/s scanned, %.1f M commands/s (PPGTT batches included; copy from the replay's graphics "
                    + "memory included)%n", prepared.size(), rounds, bytes, commands, seconds, bytes / seconds / 1e6,
                    commands / seconds / 1e6);
            assertThat(bytes).isPositive();
        }
    }
}
