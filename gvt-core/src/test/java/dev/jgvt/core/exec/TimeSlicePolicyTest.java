package dev.jgvt.core.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** GVT-g's time-based scheduler over simulated time: shares, yielding, debt and the priority window. */
final class TimeSlicePolicyTest {
    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000 * MS;

    /** Runs the policy tick by tick; the owner of each tick gets it whole. Returns nanoseconds owned in [from, to). */
    private static Map<String, Long> simulate(TimeSlicePolicy<String> policy, long to, long from,
            java.util.function.BiPredicate<String, Long> hasWork) {
        Map<String, Long> owned = new HashMap<>();
        for (long now = 0; now < to; now += TimeSlicePolicy.TIME_SLICE_NANOS) {
            long t = now;
            String next = policy.pick(now, k -> hasWork.test(k, t));
            policy.switchedTo(next, now);
            if (next != null && now >= from) {
                owned.merge(next, TimeSlicePolicy.TIME_SLICE_NANOS, Long::sum);
            }
        }
        return owned;
    }

    @Test
    void fourBusyVgpusOfDifferentTypesGetSharesWithinTenPercentOfTheirWeights() {
        // GVTg_V5_1, _2, _4 and _8: weights 16, 8, 4, 2
        Map<String, Integer> weights = Map.of("v5_1", 16, "v5_2", 8, "v5_4", 4, "v5_8", 2);
        TimeSlicePolicy<String> policy = new TimeSlicePolicy<>(0);
        for (String k : List.of("v5_8", "v5_4", "v5_2", "v5_1")) {
            policy.add(k, weights.get(k), 0);
        }
        // one simulated second past the 2 s start-up priority window, starting at a stage-0 balance (every
        // second from the first period at 100 ms), where credit saved during the priority window is forgiven
        long from = 2 * SECOND + TimeSlicePolicy.BALANCE_PERIOD_NANOS;
        Map<String, Long> owned = simulate(policy, from + SECOND, from, (k, t) -> true);
        long total = owned.values().stream().mapToLong(Long::longValue).sum();
        assertThat(total).isEqualTo(SECOND);
        for (var e : weights.entrySet()) {
            double share = (double) owned.get(e.getKey()) / total;
            double expected = e.getValue() / 30.0;
            assertThat(share).as("share of %s", e.getKey()).isCloseTo(expected, within(expected * 0.10));
        }
    }

    @Test
    void aVgpuWithoutWorkYieldsAndTheOthersShareItsTime() {
        TimeSlicePolicy<String> policy = new TimeSlicePolicy<>(0, 0);
        policy.add("a", 4, 0);
        policy.add("b", 4, 0);
        policy.add("idle", 4, 0);
        Map<String, Long> owned = simulate(policy, 2 * SECOND, SECOND, (k, t) -> !k.equals("idle"));
        assertThat(owned).doesNotContainKey("idle");
        // each busy vGPU may use its own third; the GPU idles for the idle one's third (not work conserving)
        assertThat(owned.get("a")).isCloseTo(SECOND / 3, within(SECOND / 30));
        assertThat(owned.get("b")).isCloseTo(SECOND / 3, within(SECOND / 30));
    }

    @Test
    void aVgpuInItsPriorityWindowIsTakenAtOnce() {
        TimeSlicePolicy<String> policy = new TimeSlicePolicy<>(0);
        policy.add("old", 16, 0);
        Map<String, Long> first = simulate(policy, 100 * MS, 0, (k, t) -> true);
        assertThat(first.get("old")).isEqualTo(100 * MS);
        policy.add("new", 2, 100 * MS);
        assertThat(policy.pick(101 * MS, k -> true)).isEqualTo("new");
    }

    @Test
    void nobodyWithWorkMeansIdle() {
        TimeSlicePolicy<String> policy = new TimeSlicePolicy<>(0);
        policy.add("a", 4, 0);
        assertThat(policy.pick(MS, k -> false)).isNull();
    }

    @Test
    void overuseIsCarriedAsDebtUntilTheNextSecond() {
        TimeSlicePolicy<String> policy = new TimeSlicePolicy<>(0, 0);
        policy.add("a", 8, 0);
        policy.add("b", 8, 0);
        policy.pick(100 * MS, k -> true); // first period: stage 0, every balance reset to its 50 ms slice
        policy.switchedTo("a", 100 * MS);
        // "a" keeps the GPU for 80 ms (a long non-preemptible workload): 30 ms over its 50 ms slice
        assertThat(policy.pick(180 * MS, k -> true)).isEqualTo("b");
        policy.switchedTo("b", 180 * MS);
        assertThat(policy.left("a")).isEqualTo(-30 * MS);
        // the next period (stage 1) adds 50 ms to the debt: 20 ms left
        policy.pick(200 * MS, k -> true);
        assertThat(policy.left("a")).isEqualTo(20 * MS);
        // stage 0 again a second later forgives whatever is left
        for (long t = 300; t <= 1100; t += 100) {
            policy.switchedTo(null, t * MS);
            policy.pick(t * MS, k -> false);
        }
        assertThat(policy.left("a")).isEqualTo(50 * MS);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void randomBusyPatternsNeverGiveAnIdleVgpuTheGpuAndNeverExceedAWindowsWorth(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        TimeSlicePolicy<String> policy = new TimeSlicePolicy<>(0, 0);
        List<String> keys = List.of("a", "b", "c", "d");
        for (String k : keys) {
            policy.add(k, 1 + random.nextInt(16), 0);
        }
        Set<String> busy = new java.util.HashSet<>(keys);
        for (long now = 0; now < 3 * SECOND; now += MS) {
            if (random.nextInt(20) == 0) {
                String k = keys.get(random.nextInt(keys.size()));
                if (!busy.remove(k)) {
                    busy.add(k);
                }
            }
            String next = policy.pick(now, busy::contains);
            assertThat(next == null || busy.contains(next)).isTrue();
            policy.switchedTo(next, now);
        }
        long total = keys.stream().mapToLong(policy::used).sum();
        assertThat(total).isLessThanOrEqualTo(3 * SECOND);
    }

    /**
     * Two concurrent i915 probes on one daemon (docs/linux-guest.md): vGPU "a", added long before its guest's driver
     * probes, becomes active right after a stage-0 balance; its first workload holds the GPU for 150 ms (the host's
     * first execution: class loading, JIT), which leaves it 50 ms in debt, while "b" keeps a backlog. a's next four
     * requests (1 ms each, 2 ms apart) must not wait for the balance stages to pay that debt back: i915 gives its
     * first requests 200 ms. Without the priority window from activation each waited until a.left > 0 again.
     */
    @Test
    void aNewlyActiveVgpuInDebtFromItsFirstWorkloadGetsEachRequestWithinATickWhileAnotherHasABacklog() {
        TimeSlicePolicy<String> policy = new TimeSlicePolicy<>(0);
        policy.add("a", 4, 0);
        policy.add("b", 4, 0);
        long activeAt = 10 * SECOND + TimeSlicePolicy.BALANCE_PERIOD_NANOS; // right after a stage-0 balance
        simulate(policy, activeAt, 0, (k, t) -> k.equals("b"));
        policy.activate("a", activeAt);
        assertThat(policy.pick(activeAt, k -> true)).isEqualTo("a");
        policy.switchedTo("a", activeAt);
        long now = activeAt + 150 * MS; // a's first workload ends
        long submittedAt = now;
        int requests = 4;
        List<Long> waits = new java.util.ArrayList<>();
        long leftAfterFirst = 0;
        while (requests > 0 && now < activeAt + 2 * SECOND) {
            boolean aHasWork = now >= submittedAt;
            String next = policy.pick(now, k -> k.equals("b") || aHasWork);
            if (now == activeAt + 150 * MS) {
                leftAfterFirst = policy.left("a"); // charged for the first workload
            }
            policy.switchedTo(next, now);
            now += TimeSlicePolicy.TIME_SLICE_NANOS; // the owner runs for a tick
            if ("a".equals(next)) {
                waits.add(now - TimeSlicePolicy.TIME_SLICE_NANOS - submittedAt);
                requests--;
                submittedAt = now + 2 * MS; // the guest submits its next request 2 ms after this one completed
            }
        }
        assertThat(waits).hasSize(4).allSatisfy(w -> assertThat(w).isLessThanOrEqualTo(TimeSlicePolicy.TIME_SLICE_NANOS));
        assertThat(leftAfterFirst).as("a's balance after its first workload").isEqualTo(-50 * MS);
    }

    @Test
    void vgpusInTheirPriorityWindowsTakeTurns() {
        TimeSlicePolicy<String> policy = new TimeSlicePolicy<>(0);
        policy.add("a", 4, 0);
        policy.add("b", 4, 0);
        // both busy and both in their windows for the first second: neither keeps the GPU to itself (in GVT-g the
        // first in the order would, as long as it has work)
        Map<String, Long> owned = simulate(policy, SECOND, 0, (k, t) -> true);
        assertThat(owned.get("a")).isCloseTo(SECOND / 2, within(SECOND / 20));
        assertThat(owned.get("b")).isCloseTo(SECOND / 2, within(SECOND / 20));
    }

    @Test
    void theWindowStartsOncePerActivationAndADeviceResetAllowsANewOne() {
        TimeSlicePolicy<String> policy = new TimeSlicePolicy<>(0);
        policy.add("a", 4, 0);
        policy.add("b", 4, 0);
        policy.activate("a", 0);
        long stage0 = 10 * SECOND + TimeSlicePolicy.BALANCE_PERIOD_NANOS;
        assertThat(policy.pick(stage0, k -> false)).isNull();
        policy.switchedTo("a", stage0);
        policy.switchedTo(null, stage0 + 90 * MS); // a held the GPU 90 ms with a 50 ms slice
        assertThat(policy.left("a")).isEqualTo(-40 * MS);
        long now = stage0 + 95 * MS;
        assertThat(policy.pick(now, k -> k.equals("a"))).as("in debt, window over").isNull();
        policy.activate("a", now);
        assertThat(policy.pick(now, k -> k.equals("a"))).as("already active: no new window").isNull();
        policy.deactivate("a");
        policy.activate("a", now);
        assertThat(policy.pick(now, k -> k.equals("a"))).as("a new window after a device reset").isEqualTo("a");
    }
    /**
     * {@code pickOnly} (the scheduler's question when an idle owner submits again and nobody else has work) answers
     * what {@code pick} answers when only that vGPU has work, and leaves the policy in the same state: same answers,
     * balances and order over random submissions, executions, idle gaps and balance periods.
     */
    @Test
    void pickOnlyAnswersAsPickWithOnlyThatVgpuHavingWork() {
        SplittableRandom random = new SplittableRandom(18);
        TimeSlicePolicy<String> viaPick = new TimeSlicePolicy<>(0, 300_000_000L);
        TimeSlicePolicy<String> viaPickOnly = new TimeSlicePolicy<>(0, 300_000_000L);
        List<String> keys = List.of("a", "b", "c");
        int[] weights = {16, 4, 2};
        for (int i = 0; i < keys.size(); i++) {
            viaPick.add(keys.get(i), weights[i], 0);
            viaPickOnly.add(keys.get(i), weights[i], 0);
        }
        long now = 0;
        for (int step = 0; step < 5_000; step++) {
            String key = keys.get(random.nextInt(keys.size()));
            viaPick.activate(key, now);
            viaPickOnly.activate(key, now);
            String picked = viaPick.pick(now, key::equals);
            assertThat(viaPickOnly.pickOnly(key, now)).as("step %d", step).isEqualTo(picked);
            viaPick.switchedTo(picked, now);
            viaPickOnly.switchedTo(picked, now);
            now += random.nextLong(1, 30_000_000L); // executes
            viaPick.switchedTo(null, now);
            viaPickOnly.switchedTo(null, now);
            now += random.nextLong(0, 20_000_000L); // idle
            for (String k : keys) {
                assertThat(viaPickOnly.left(k)).isEqualTo(viaPick.left(k));
                assertThat(viaPickOnly.used(k)).isEqualTo(viaPick.used(k));
            }
            assertThat(viaPickOnly.pick(now, k -> true)).as("the order, step %d", step).isEqualTo(viaPick.pick(now, k -> true));
        }
    }
}
