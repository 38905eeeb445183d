package dev.jgvt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.gtt.PinCache;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class PinCacheTest {
    private final SimGpu gpu = new SimGpu(Rig.SMALL);
    private final TestGuest guest = new TestGuest(16L << 20);
    private final PinCache pins = new PinCache(guest, gpu, 2);

    @AfterEach
    void close() {
        pins.close();
        gpu.close();
        guest.close();
    }

    @Test
    void referencesAreCountedAndOnePinServesAll() {
        long dma = pins.acquire(100);
        assertThat(pins.acquire(100)).isEqualTo(dma);
        assertThat(pins.refCount(100)).isEqualTo(2);
        assertThat(guest.pinCalls).isEqualTo(1);
        assertThat(gpu.isDmaMapped(dma)).isTrue();
        pins.release(100);
        pins.release(100);
        assertThat(pins.idleFrames()).isEqualTo(1);
        assertThat(guest.pinnedIn(100, 1)).as("idle frames stay pinned").isEqualTo(1);
        assertThat(pins.acquire(100)).isEqualTo(dma);
        assertThat(guest.pinCalls).isEqualTo(1);
    }

    @Test
    void idleFramesBeyondTheLimitAreUnpinnedOldestFirst() {
        long[] dma = new long[4];
        for (int i = 0; i < 4; i++) {
            dma[i] = pins.acquire(200 + i);
        }
        for (int i = 0; i < 4; i++) {
            pins.release(200 + i);
        }
        assertThat(pins.idleFrames()).isEqualTo(2);
        assertThat(guest.pinnedIn(200, 2)).isZero();
        assertThat(guest.pinnedIn(202, 2)).isEqualTo(2);
        assertThat(gpu.isDmaMapped(dma[0])).isFalse();
        pins.releaseIdle();
        assertThat(guest.pinnedTotal()).isZero();
        assertThat(gpu.mappedFrames()).isZero();
    }

    @Test
    void framesThatAreNotGuestRamYieldNoMapping() {
        assertThat(pins.acquire(1L << 30)).isEqualTo(PinCache.NO_MAPPING);
        assertThat(pins.acquire(-5)).isEqualTo(PinCache.NO_MAPPING);
        assertThat(pins.pinFailures()).isEqualTo(2);
    }

    @Test
    void hugeRunsAreOneMappingOrNoneWhenNotContiguous() {
        long dma = pins.acquireHuge(512);
        assertThat(dma).isNotEqualTo(PinCache.NO_MAPPING);
        assertThat(dma & ((2 << 20) - 1)).isZero();
        assertThat(guest.pinnedIn(512, 512)).isEqualTo(512);
        assertThat(pins.acquireHuge(513)).as("misaligned").isEqualTo(PinCache.NO_MAPPING);
        pins.releaseHuge(512);
        assertThat(guest.pinnedTotal()).isZero();
        guest.contiguousRuns(false);
        assertThat(pins.acquireHuge(1024)).isEqualTo(PinCache.NO_MAPPING);
        assertThat(guest.pinnedTotal()).isZero();
    }

    @Test
    void dmaUnmapToldListenersFirstThenDropsEveryPinInTheRange() {
        List<String> calls = new ArrayList<>();
        pins.addListener((first, end) -> calls.add(first + ".." + end + " pinned=" + guest.pinnedIn(first, end - first)));
        pins.acquire(10);
        pins.acquire(11);
        pins.release(11); // idle
        pins.acquire(20);
        pins.acquireHuge(512);
        pins.dmaUnmapped(10L << 12, 2L << 12);
        assertThat(calls).containsExactly("10..12 pinned=2");
        assertThat(guest.pinnedIn(10, 2)).isZero();
        assertThat(guest.pinnedIn(20, 1)).isEqualTo(1);
        assertThat(pins.invalidations()).isEqualTo(1);
        pins.dmaUnmapped((512L + 100) << 12, 4096);
        assertThat(guest.pinnedIn(512, 512)).isZero();
        // a stale release after the unmap is harmless
        pins.release(10);
        assertThat(pins.refCount(10)).isZero();
    }
}
