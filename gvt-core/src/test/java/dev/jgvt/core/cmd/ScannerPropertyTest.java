package dev.jgvt.core.cmd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random workloads (replay one with {@code -Dgvt.seed=N}): valid ones must be accepted; every accepted
 * one must satisfy the independent {@link ReferenceWalker}; and the scanner never reads graphics memory outside
 * the vGPU's partition, whatever it decides. Anything thrown other than {@link ScanRejectedException} fails.
 */
final class ScannerPropertyTest {
    private static final AtomicInteger HOSTILE_ACCEPTED = new AtomicInteger();
    private static final AtomicInteger HOSTILE_REJECTED = new AtomicInteger();

    static LongStream seeds() {
        long base = Long.getLong("gvt.seed", 0xC0FFEE);
        int count = Integer.getInteger("gvt.seeds", 150);
        return LongStream.range(0, count).map(i -> base + i);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void validWorkloadsAreAcceptedAndSafe(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        Engine engine = Engine.values()[random.nextInt(Engine.values().length)];
        try (Fixture fx = new Fixture(); CommandScanner scanner = CommandScanner.gen9()) {
            int[] ring = new RandomWorkloads(random, engine, true).generate(fx);
            scanner.scanRing(fx.context(engine), RandomWorkloads.RING, RandomWorkloads.RING_SIZE, 0, 4L * ring.length);
            assertSafe(scanner, fx, engine, seed);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void hostileWorkloadsAreRejectedOrSafe(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        Engine engine = Engine.values()[random.nextInt(Engine.values().length)];
        try (Fixture fx = new Fixture(); CommandScanner scanner = CommandScanner.gen9()) {
            int[] ring = new RandomWorkloads(random, engine, false).generate(fx);
            long head = random.nextInt(4) == 0 ? RandomWorkloads.RING_SIZE - 16 : 0;
            if (head != 0) {
                // wrap: the slice starts 16 bytes before the ring end
                fx.write(RandomWorkloads.RING + head, 0, 0, 0, 0);
            }
            long tail = (head + 4L * ring.length) % RandomWorkloads.RING_SIZE;
            if (head != 0) {
                tail = 4L * ring.length;
            }
            try {
                scanner.scanRing(fx.context(engine), RandomWorkloads.RING, RandomWorkloads.RING_SIZE, head, tail);
                HOSTILE_ACCEPTED.incrementAndGet();
                assertSafe(scanner, fx, engine, seed);
            } catch (ScanRejectedException e) {
                HOSTILE_REJECTED.incrementAndGet();
                assertThat(e.getMessage()).contains(e.rule().id());
            }
            assertThat(fx.ggtt.outsideReads).as("seed %d: reads outside the partition", seed).isZero();
        }
    }

    static void assertSafe(CommandScanner scanner, Fixture fx, Engine engine, long seed) {
        ReferenceWalker walker = new ReferenceWalker(CommandTable.gen9(), Gen9RegisterPolicy.load(), Fixture.PARTITION,
                Fixture.HWSP, engine, scanner.batches());
        walker.walkRing(scanner.shadowRing());
        assertThat(walker.violations).as("seed %d on %s", seed, engine).isEmpty();
        assertThat(fx.ggtt.outsideReads).as("seed %d: reads outside the partition", seed).isZero();
    }

    @AfterAll
    static void bothOutcomesOccur() {
        // the hostile generator is useful only if it produces both outcomes
        if (HOSTILE_ACCEPTED.get() + HOSTILE_REJECTED.get() >= 100) {
            assertThat(HOSTILE_ACCEPTED.get()).isPositive();
            assertThat(HOSTILE_REJECTED.get()).isPositive();
        }
    }
}
