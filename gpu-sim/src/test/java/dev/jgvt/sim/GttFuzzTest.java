package dev.jgvt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jgvt.core.gtt.PpgttConfig;
import java.util.Random;

/**
 * Jazzer fuzz target for the GTT entry paths: two vGPUs on one simulated GPU take GGTT entry writes (4 and 8
 * bytes, inside and outside their partitions), guest page-table writes under PPGTT shadows (strict and relaxed),
 * root loads, pins and DMA unmaps, every decision drawn from the fuzzer's input (the steps of
 * {@link IsolationTest}). Then the host tables are walked: everything a vGPU reaches must be its own pinned
 * pages, scratch or its own shadow tables, and host GGTT entries outside both partitions must be untouched.
 * Anything thrown is a finding.
 *
 * <p>The default build replays {@code GttFuzzTestInputs/}; {@code JAZZER_FUZZ=1} fuzzes (see
 * docs/command-scanner.md, "Fuzzing").
 */
final class GttFuzzTest {
    /** The CI-sized target: replayed by the default build, fuzzed for 10 s in its fuzz-smoke execution. */
    @FuzzTest(maxDuration = "10s")
    void guestTablesReachOnlyTheirOwnMemory(FuzzedDataProvider data) {
        Random r = new Random(0) {
            private static final long serialVersionUID = 1L;

            @Override
            protected int next(int bits) {
                return data.consumeInt() >>> (32 - bits);
            }
        };
        SimGpu gpu = new SimGpu(Rig.SMALL);
        IsolationTest.Vgpu a = new IsolationTest.Vgpu(gpu, Rig.PARTITION, PpgttConfig.STRICT);
        IsolationTest.Vgpu b = new IsolationTest.Vgpu(gpu, IsolationTest.B, PpgttConfig.RELAXED.withBudget(256));
        try {
            for (int i = 0; i < 400 && data.remainingBytes() >= 4; i++) {
                (data.consumeBoolean() ? a : b).step(r);
            }
            a.audit(gpu);
            b.audit(gpu);
            for (int index = 0; index < gpu.ggttEntries(); index++) {
                if (!a.rig.ggtt.owns(index) && !b.rig.ggtt.owns(index)) {
                    assertThat(gpu.ggttRead(index)).as("host GGTT entry %d outside both partitions", index).isZero();
                }
            }
        } finally {
            a.rig.close();
            b.rig.close();
            gpu.close();
        }
    }

    /** The same target for a long run: {@code -Dtest=GttFuzzTest#guestTablesReachOnlyTheirOwnMemoryLongRun}. */
    @FuzzTest(maxDuration = "15m")
    void guestTablesReachOnlyTheirOwnMemoryLongRun(FuzzedDataProvider data) {
        guestTablesReachOnlyTheirOwnMemory(data);
    }
}
