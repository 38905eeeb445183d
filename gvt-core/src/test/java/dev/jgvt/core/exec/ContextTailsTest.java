package dev.jgvt.core.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class ContextTailsTest {
    @Test
    void behavesAsAMapThroughCollisionsGrowthAndRemovals() {
        ContextTails tails = new ContextTails();
        Map<Integer, Integer> expected = new HashMap<>();
        Random random = new Random(15);
        for (int step = 0; step < 20_000; step++) {
            int id = random.nextInt(64) * 1024; // many ids, colliding slots
            switch (random.nextInt(3)) {
                case 0 -> {
                    int tail = random.nextInt(1 << 20);
                    tails.put(id, tail);
                    expected.put(id, tail);
                }
                case 1 -> {
                    tails.remove(id);
                    expected.remove(id);
                }
                default -> assertThat(tails.get(id)).isEqualTo(expected.getOrDefault(id, ContextTails.NONE));
            }
        }
        for (int id = 0; id < 64 * 1024; id += 1024) {
            assertThat(tails.get(id)).as("context %d", id).isEqualTo(expected.getOrDefault(id, ContextTails.NONE));
        }
        tails.clear();
        assertThat(tails.get(0)).isEqualTo(ContextTails.NONE);
    }

    @Test
    void aNegativeTailIsRefused() {
        assertThatThrownBy(() -> new ContextTails().put(1, -8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-8");
    }
}
