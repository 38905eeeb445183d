package dev.jgvt.core.cmd;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jgvt.core.hw.Engine;

/**
 * Jazzer fuzz test: arbitrary ring and batch contents, engines and options. The scanner may only accept or
 * throw {@link ScanRejectedException}; it must terminate; an accepted workload must pass the
 * {@link ReferenceWalker}; and it never reads graphics memory outside the partition.
 *
 * <p>The default test run replays the inputs under {@code ScannerFuzzTestInputs/} and, in the {@code fuzz-smoke}
 * execution, fuzzes {@link #scanArbitraryWorkloads} for 10 s with coverage feedback (Jazzer 0.30 instruments
 * Java 25 classes). A long run: {@code JAZZER_FUZZ=1 ./mvnw -pl gvt-core -am test -Dfuzz.smoke.skip=true
 * -Dtest=ScannerFuzzTest#scanArbitraryWorkloadsLongRun -Dsurefire.failIfNoSpecifiedTests=false}.
 */
final class ScannerFuzzTest {
    private static final long[] PLACES = {RandomWorkloads.BATCHES[0], RandomWorkloads.BATCHES[2],
        RandomWorkloads.BATCHES[3], RandomWorkloads.BATCHES[4]};

    /** The CI-sized target: the default build replays its inputs, and fuzzes it for 10 s (fuzz-smoke). */
    @FuzzTest(maxDuration = "10s")
    void scanArbitraryWorkloads(FuzzedDataProvider data) {
        scan(data);
    }

    /** The same target for a long run: {@code -Dtest=ScannerFuzzTest#scanArbitraryWorkloadsLongRun}. */
    @FuzzTest(maxDuration = "15m")
    void scanArbitraryWorkloadsLongRun(FuzzedDataProvider data) {
        scan(data);
    }

    private static void scan(FuzzedDataProvider data) {
        Engine engine = data.pickValue(Engine.values());
        boolean diagnostic = data.consumeBoolean();
        boolean wrap = data.consumeBoolean();
        try (Fixture fx = new Fixture();
                CommandScanner scanner = new CommandScanner(CommandTable.gen9(), policy(),
                        PdpLoadHook.REJECT, ScanOptions.defaults().withScanPpgttBatches(diagnostic))) {
            for (long place : PLACES) {
                byte[] bytes = data.consumeBytes(place == RandomWorkloads.BATCHES[3] ? 0x40 : 512);
                fx.write(place, ints(bytes));
            }
            int[] ring = ints(data.consumeRemainingAsBytes());
            if (ring.length > 2000) {
                ring = java.util.Arrays.copyOf(ring, 2000);
            }
            long head = wrap ? RandomWorkloads.RING_SIZE - 16 : 0;
            if (wrap) {
                int first = Math.min(4, ring.length);
                fx.write(RandomWorkloads.RING + head, java.util.Arrays.copyOf(ring, first));
                fx.write(RandomWorkloads.RING, java.util.Arrays.copyOfRange(ring, first, ring.length));
            } else {
                fx.write(RandomWorkloads.RING, ring);
            }
            long tail = (head + 4L * ring.length) % RandomWorkloads.RING_SIZE;
            WorkloadContext ctx = new WorkloadContext(engine, Fixture.PARTITION, fx.ggtt, fx.ggtt, Fixture.HWSP, fx.events);
            boolean accepted;
            try {
                scanner.scanRing(ctx, RandomWorkloads.RING, RandomWorkloads.RING_SIZE, head, tail);
                accepted = true;
            } catch (ScanRejectedException e) {
                accepted = false;
            }
            if (accepted && !diagnostic) {
                ReferenceWalker walker = new ReferenceWalker(CommandTable.gen9(), policy(),
                        Fixture.PARTITION, Fixture.HWSP, engine, scanner.batches());
                walker.walkRing(scanner.shadowRing());
                if (!walker.violations.isEmpty()) {
                    throw new AssertionError("accepted an unsafe workload: " + walker.violations);
                }
            }
            if (fx.ggtt.outsideReads != 0 && !diagnostic) {
                throw new AssertionError(String.format("read graphics memory outside the partition at 0x%x",
                        fx.ggtt.lastOutside));
            }
        }
    }

    private static Gen9RegisterPolicy policy;

    /** Loaded on first use (after Jazzer's agent, so its classes are instrumented), then shared. */
    private static Gen9RegisterPolicy policy() {
        if (policy == null) {
            policy = Gen9RegisterPolicy.load();
        }
        return policy;
    }

    private static int[] ints(byte[] bytes) {
        int[] out = new int[bytes.length / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = (bytes[4 * i] & 0xFF) | (bytes[4 * i + 1] & 0xFF) << 8 | (bytes[4 * i + 2] & 0xFF) << 16
                    | (bytes[4 * i + 3] & 0xFF) << 24;
        }
        return out;
    }
}
