package dev.jgvt.core.track;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

final class GfnMapTest {
    static LongStream seeds() {
        long fixed = Long.getLong("gvt.seed", 0);
        return fixed != 0 ? LongStream.of(fixed) : LongStream.of(1, 17, 4242);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void behavesLikeAHashMapUnderRandomOperations(long seed) {
        System.out.println("GfnMapTest seed " + seed);
        Random r = new Random(seed);
        GfnMap<Long> map = new GfnMap<>(4);
        Map<Long, Long> reference = new HashMap<>();
        for (int i = 0; i < 100_000; i++) {
            // a small key space forces collisions, deletions inside probe chains and growth
            long key = r.nextInt(4) == 0 ? r.nextLong() >>> 1 : r.nextInt(3000);
            Long got;
            Long expected;
            switch (r.nextInt(3)) {
                case 0 -> {
                    got = map.put(key, (long) i);
                    expected = reference.put(key, (long) i);
                }
                case 1 -> {
                    got = map.remove(key);
                    expected = reference.remove(key);
                }
                default -> {
                    got = map.get(key);
                    expected = reference.get(key);
                }
            }
            if (!java.util.Objects.equals(got, expected) || map.size() != reference.size()) {
                throw new AssertionError("step " + i + ", key " + key + ": got " + got + ", expected " + expected
                        + ", sizes " + map.size() + "/" + reference.size());
            }
        }
        for (Map.Entry<Long, Long> e : reference.entrySet()) {
            assertThat(map.get(e.getKey())).isEqualTo(e.getValue());
        }
        assertThat(map.keys()).hasSize(reference.size());
        assertThat(map.values()).containsExactlyInAnyOrderElementsOf(reference.values());
    }

    @Test
    void rejectsNegativeKeysAndNullValues() {
        GfnMap<String> map = new GfnMap<>();
        assertThatThrownBy(() -> map.put(-1, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> map.put(1, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(map.get(-1)).isNull();
        assertThat(map.remove(-1)).isNull();
        map.put(3, "a");
        map.clear();
        assertThat(map.isEmpty()).isTrue();
        assertThat(map.get(3)).isNull();
    }
}
