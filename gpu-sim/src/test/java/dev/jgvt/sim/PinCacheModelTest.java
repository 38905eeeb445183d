package dev.jgvt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.gtt.PinCache;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pin cache against a reference-count model under random acquire / release / DMA unmap / release-idle
 * sequences (seeded, {@code -Dgvt.seed=} replays): enough frames to grow its index and id arrays, ids reused
 * after drops, stale idle-queue entries left by unmaps.
 */
final class PinCacheModelTest {
    private static final int IDLE_LIMIT = 8;

    static LongStream seeds() {
        long fixed = Long.getLong("gvt.seed", 0);
        return fixed != 0 ? LongStream.of(fixed) : LongStream.of(1, 2, 3, 42, 0xC0FFEE);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void countsAddressesAndPinsFollowTheModel(long seed) {
        System.out.println("PinCacheModelTest seed " + seed + " (replay with -Dgvt.seed=" + seed + ")");
        SplittableRandom r = new SplittableRandom(seed);
        try (SimGpu gpu = new SimGpu(Rig.SMALL); TestGuest guest = new TestGuest(16L << 20)) {
            PinCache pins = new PinCache(guest, gpu, IDLE_LIMIT);
            Map<Long, Integer> refs = new HashMap<>();
            Map<Long, Long> dma = new HashMap<>();
            List<Long> held = new ArrayList<>();
            for (int op = 0; op < 20_000; op++) {
                int kind = r.nextInt(100);
                if (kind < 55 || held.isEmpty()) {
                    long gfn = 16 + r.nextInt(held.size() < 1500 ? 3000 : 200);
                    long address = pins.acquire(gfn);
                    assertThat(address).isNotEqualTo(PinCache.NO_MAPPING);
                    if (refs.containsKey(gfn)) {
                        assertThat(address).as("address of held gfn %d", gfn).isEqualTo(dma.get(gfn));
                    }
                    refs.merge(gfn, 1, Integer::sum);
                    dma.put(gfn, address);
                    held.add(gfn);
                } else if (kind < 97) {
                    long gfn = held.remove(r.nextInt(held.size()));
                    if (refs.containsKey(gfn)) {
                        pins.release(gfn);
                        if (refs.merge(gfn, -1, Integer::sum) == 0) {
                            refs.remove(gfn);
                            dma.remove(gfn);
                        }
                    }
                } else if (kind < 99) {
                    long first = 16 + r.nextInt(3000);
                    long count = 1 + r.nextInt(64);
                    pins.dmaUnmapped(first << 12, count << 12);
                    refs.keySet().removeIf(g -> g >= first && g < first + count);
                    dma.keySet().removeIf(g -> g >= first && g < first + count);
                    held.removeIf(g -> g >= first && g < first + count);
                    assertThat(guest.pinnedIn(first, count)).isZero();
                } else {
                    pins.releaseIdle();
                    assertThat(pins.idleFrames()).isZero();
                }
                assertThat(pins.idleFrames()).isBetween(0, IDLE_LIMIT);
                assertThat(pins.pinnedFrames()).isEqualTo(refs.size() + pins.idleFrames());
                if (op % 500 == 0) {
                    check(pins, gpu, guest, refs, dma);
                }
            }
            check(pins, gpu, guest, refs, dma);
            for (long gfn : held) {
                pins.release(gfn);
            }
            assertThat(pins.idleFrames()).isEqualTo(pins.pinnedFrames()).isLessThanOrEqualTo(IDLE_LIMIT);
            pins.releaseIdle();
            assertThat(pins.pinnedFrames()).isZero();
            assertThat(guest.pinnedTotal()).isZero();
            assertThat(gpu.mappedFrames()).isZero();
            pins.close();
        }
    }

    private static void check(PinCache pins, SimGpu gpu, TestGuest guest, Map<Long, Integer> refs, Map<Long, Long> dma) {
        for (var e : refs.entrySet()) {
            long gfn = e.getKey();
            assertThat(pins.refCount(gfn)).as("refs of gfn %d", gfn).isEqualTo(e.getValue());
            assertThat(pins.dmaAddress(gfn)).isEqualTo(dma.get(gfn));
            assertThat(gpu.isDmaMapped(dma.get(gfn))).isTrue();
            assertThat(pins.page(gfn)).isNotNull();
        }
        assertThat(guest.pinnedTotal()).isEqualTo(pins.pinnedFrames());
        assertThat(gpu.mappedFrames()).isEqualTo(pins.pinnedFrames());
        long[] visited = {0};
        pins.forEachMapping((gfn, address, bytes) -> {
            visited[0]++;
            assertThat(pins.dmaAddress(gfn)).isEqualTo(address);
        });
        assertThat(visited[0]).isEqualTo(pins.pinnedFrames());
    }
}
