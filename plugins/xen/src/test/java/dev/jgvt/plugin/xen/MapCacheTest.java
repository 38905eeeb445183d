package dev.jgvt.plugin.xen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.plugin.xen.emu.EmulatedDomain;
import dev.jgvt.plugin.xen.emu.EmulatedXen;
import dev.jgvt.plugin.xen.lib.XenForeignMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The map cache on emulated foreign memory: 1 MiB buckets, LRU eviction, flush, holes at bucket granularity. */
final class MapCacheTest {
    private final EmulatedXen xen = new EmulatedXen();
    private final EmulatedDomain domain = xen.createDomain(2, 5L << 20, 1);
    private final XenForeignMemory foreign = xen.backend(0).foreignMemory();

    @AfterEach
    void close() {
        xen.close();
    }

    @Test
    void bucketsAreMappedOnceAndEvictedLeastRecentlyUsed() {
        MapCache cache = new MapCache(foreign, 2, 2);
        cache.readLong(0x00_1000); // bucket 0
        cache.readLong(0x10_0008); // bucket 1
        cache.readLong(0x00_2000); // bucket 0 again: a hit, and now most recent
        assertThat(cache.bucketMaps()).isEqualTo(2);
        cache.readLong(0x20_0000); // bucket 2 evicts bucket 1 (least recently used)
        assertThat(cache.evictions()).isEqualTo(1);
        assertThat(cache.mappedBuckets()).isEqualTo(2);
        cache.readLong(0x00_3000); // still mapped
        assertThat(cache.bucketMaps()).isEqualTo(3);
        cache.readLong(0x10_0000); // bucket 1 must be mapped again
        assertThat(cache.bucketMaps()).isEqualTo(4);
    }

    @Test
    void accessesCrossBucketBoundariesAndSeeLiveGuestMemory() {
        MapCache cache = new MapCache(foreign, 2, 1);
        byte[] bytes = new byte[64];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i + 1);
        }
        cache.write(0x10_0000 - 32, MemorySegment.ofArray(bytes));
        assertThat(domain.ram().asSlice(0x10_0000 - 32, 64).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(bytes);
        domain.ram().set(ValueLayout.JAVA_BYTE, 0x10_0000 - 32, (byte) 99);
        byte[] back = new byte[64];
        cache.read(0x10_0000 - 32, MemorySegment.ofArray(back));
        assertThat(back[0]).isEqualTo((byte) 99);
        assertThat(cache.evictions()).as("one bucket allowed, two touched twice").isPositive();
    }

    @Test
    void aFlushDropsEveryBucketAndRelearnsHoles() {
        MapCache cache = new MapCache(foreign, 2, 8);
        assertThat(cache.isBacked(0x201)).isTrue();
        domain.unpopulate(0x201, 1);
        assertThat(cache.isBacked(0x201)).as("the cached bucket still has the old view").isTrue();
        cache.flush();
        assertThat(cache.mappedBuckets()).isZero();
        assertThat(cache.isBacked(0x201)).isFalse();
        assertThat(cache.isBacked(0x200)).isTrue();
        assertThat(cache.isBacked(0x500)).as("first frame after RAM").isFalse();
        assertThat(cache.isBacked(0x4FF)).isTrue();
    }
}
