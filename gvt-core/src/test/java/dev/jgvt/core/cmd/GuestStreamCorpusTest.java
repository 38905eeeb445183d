package dev.jgvt.core.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import dev.jgvt.core.hw.Engine;
import org.junit.jupiter.api.Test;

/**
 * The regression corpus of real guest command streams: what Linux's i915 and IGT submitted in the Linux-guest
 * harness, dumped by {@code gvt qemu --scan-dump} (how: corpus/README.md). Every workload is scanned again with
 * the live path's policy and must get the verdict it got live; all of them were accepted.
 */
class GuestStreamCorpusTest {
    static final String CORPUS = "corpus/i915-igt.scan.gz";

    /** The corpus's workloads, each its ring record and batch records. */
    static List<List<ScanDumpRecord>> corpus() throws IOException {
        try (InputStream in = GuestStreamCorpusTest.class.getResourceAsStream(CORPUS)) {
            assertThat(in).as(CORPUS).isNotNull();
            return ScanDumpFile.workloads(ScanDumpFile.read(in));
        }
    }

    @Test
    void everyDumpedWorkloadGetsItsLiveVerdictAndAllWereAccepted() throws IOException {
        List<List<ScanDumpRecord>> workloads = corpus();
        assertThat(workloads).hasSizeGreaterThan(50);
        List<String> disagreements = new ArrayList<>();
        Set<Engine> engines = EnumSet.noneOf(Engine.class);
        try (ScanReplay replay = new ScanReplay()) {
            for (List<ScanDumpRecord> w : workloads) {
                ScanDumpRecord ring = w.getFirst();
                engines.add(ring.engine());
                ScanRejectedException e = replay.scan(w);
                String verdict = ScanDumpRecord.verdict(e);
                if (!verdict.equals(ring.verdict())) {
                    disagreements.add("workload " + ring.workload() + " on " + ring.engine() + ": live " + ring.verdict()
                            + ", now " + verdict + (e == null ? "" : " (" + e.getMessage() + ")"));
                }
            }
        }
        assertThat(disagreements).isEmpty();
        assertThat(workloads).allSatisfy(w -> assertThat(w.getFirst().verdict()).isEqualTo(ScanDumpRecord.ACCEPTED));
        assertThat(engines).contains(Engine.RCS, Engine.BCS, Engine.VCS, Engine.VECS);
    }

    /** Prints the scan rate over the corpus; a report, not a timed assertion (performance is `gvt bench scan`). */
    @Test
    void scannedBytesPerSecondIsReported() throws IOException {
        List<ScanReplay.Prepared> prepared = new ArrayList<>();
        for (List<ScanDumpRecord> w : corpus()) {
            prepared.add(ScanReplay.prepare(w));
        }
        try (ScanReplay replay = new ScanReplay()) {
            for (int warm = 0; warm < 20; warm++) {
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
                    assertThat(replay.scan(p)).isNull();
                }
                rounds++;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long bytes = replay.bytesScanned() - bytesBefore;
            long commands = replay.commandsScanned() - commandsBefore;
            System.out.printf("guest stream corpus: %d workloads x %d rounds, %d bytes, %d commands in %.3f s: "
                    + "%.1f MB/s scanned, %.1f M commands/s (copy from the replay's graphics memory included)%n",
                    prepared.size(), rounds, bytes, commands, seconds, bytes / seconds / 1e6, commands / seconds / 1e6);
            assertThat(bytes).isPositive();
        }
    }
}
