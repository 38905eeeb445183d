package dev.jgvt.plugin.kvm.iommu;

import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PROT_READ;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PROT_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.jgvt.plugin.kvm.os.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random operation sequences against a reference model that is a plain map of page → mapping, with
 * per-page pin counts and per-mapping byte arrays. Half the seeds place the 64-page window at the top of
 * the 64-bit IOVA space to exercise unsigned ordering.
 */
final class SoftIommuPropertyTest {
    private static final long P = SoftIommu.PAGE_SIZE;
    private static final int WINDOW_PAGES = 64;
    private static final int LIMIT = 12;
    private static final int OPS = 600;

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 24);
    }

    private record ModelMapping(long iova, int pages, int prot, byte[] bytes) {}

    private record HeldPin(Pin pin, long iova, int count) {}

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void matchesTheReferenceModel(long seed) {
        Random rnd = new Random(seed);
        long base = seed % 2 == 0 ? 0x4000_0000L : -(WINDOW_PAGES * P);
        SoftIommu iommu = new SoftIommu(LIMIT);
        Map<Long, ModelMapping> owner = new HashMap<>();
        TreeMap<Long, ModelMapping> mappings = new TreeMap<>(Long::compareUnsigned);
        Map<Long, Integer> pinCounts = new HashMap<>();
        List<HeldPin> held = new ArrayList<>();
        iommu.register((iova, size) -> held.removeIf(h -> {
            boolean inside = Long.compareUnsigned(h.iova, iova + size - 1) <= 0
                    && Long.compareUnsigned(h.iova + h.count * P - 1, iova) >= 0;
            if (inside) {
                // the device drops the whole pin, including pages in mappings that stay
                h.pin.close();
                for (int i = 0; i < h.count; i++) {
                    pinCounts.computeIfPresent(h.iova + i * P, (k, v) -> v == 1 ? null : v - 1);
                }
            }
            return inside;
        }));
        try (Arena arena = Arena.ofShared()) {
            for (int op = 0; op < OPS; op++) {
                int kind = rnd.nextInt(100);
                long iova = base + rnd.nextInt(WINDOW_PAGES) * P;
                String ctx = "seed " + seed + " op " + op;
                if (kind < 30) {
                    int pages = 1 + rnd.nextInt(Math.min(6, (int) ((-iova == 0 ? 0 : (base + WINDOW_PAGES * P - iova) / P))));
                    int prot = 1 + rnd.nextInt(3);
                    Integer expected = null;
                    for (int i = 0; i < pages && expected == null; i++) {
                        if (owner.containsKey(iova + i * P)) {
                            expected = Errno.EEXIST;
                        }
                    }
                    if (expected == null && mappings.size() == LIMIT) {
                        expected = Errno.ENOSPC;
                    }
                    MemorySegment backing = arena.allocate(pages * P, P);
                    Integer actual = errnoOf(() -> iommu.map(iova, pages * P, prot, backing));
                    assertThat(actual).as(ctx + " map").isEqualTo(expected);
                    if (expected == null) {
                        ModelMapping m = new ModelMapping(iova, pages, prot, new byte[(int) (pages * P)]);
                        mappings.put(iova, m);
                        for (int i = 0; i < pages; i++) {
                            owner.put(iova + i * P, m);
                        }
                    }
                } else if (kind < 45) {
                    int pages = 1 + rnd.nextInt((int) ((base + WINDOW_PAGES * P - iova) / P));
                    long last = iova + pages * P - 1;
                    ModelMapping head = owner.get(iova);
                    ModelMapping tail = owner.get(last & ~(P - 1));
                    Integer expected = (head != null && head.iova != iova)
                            || (tail != null && tail.iova + tail.pages * P - 1 != last) ? Errno.EINVAL : null;
                    long[] result = new long[1];
                    Integer actual = errnoOf(() -> result[0] = iommu.unmap(iova, pages * P, 0));
                    assertThat(actual).as(ctx + " unmap").isEqualTo(expected);
                    if (expected == null) {
                        long bytes = 0;
                        for (ModelMapping m : new ArrayList<>(mappings.subMap(iova, true, last, true).values())) {
                            mappings.remove(m.iova);
                            for (int i = 0; i < m.pages; i++) {
                                owner.remove(m.iova + i * P);
                                assertThat(pinCounts).as(ctx + " pins left in an unmapped page").doesNotContainKey(m.iova + i * P);
                            }
                            bytes += m.pages * P;
                        }
                        assertThat(result[0]).as(ctx + " unmapped bytes").isEqualTo(bytes);
                    }
                } else if (kind < 65) {
                    int count = 1 + rnd.nextInt(6);
                    int prot = 1 + rnd.nextInt(3);
                    Integer expected = null;
                    for (int i = 0; i < count && expected == null; i++) {
                        long page = iova + i * P;
                        ModelMapping m = (i > 0 && page == 0) ? null : owner.get(page);
                        if (m == null) {
                            expected = Errno.EINVAL;
                        } else if ((m.prot & prot) != prot) {
                            expected = Errno.EPERM;
                        }
                    }
                    Pin[] pin = new Pin[1];
                    Integer actual = errnoOf(() -> pin[0] = iommu.pin(iova, count, prot));
                    assertThat(actual).as(ctx + " pin").isEqualTo(expected);
                    if (expected == null) {
                        held.add(new HeldPin(pin[0], iova, count));
                        for (int i = 0; i < count; i++) {
                            pinCounts.merge(iova + i * P, 1, Integer::sum);
                        }
                    }
                } else if (kind < 75) {
                    if (!held.isEmpty()) {
                        HeldPin h = held.remove(rnd.nextInt(held.size()));
                        h.pin.close();
                        for (int i = 0; i < h.count; i++) {
                            pinCounts.computeIfPresent(h.iova + i * P, (k, v) -> v == 1 ? null : v - 1);
                        }
                    }
                } else {
                    boolean write = kind < 88;
                    long start = iova + rnd.nextInt((int) P);
                    long maxLen = base + WINDOW_PAGES * P - start;
                    int len = (int) Math.min(1 + rnd.nextInt((int) (3 * P)), maxLen);
                    Integer expected = null;
                    for (long page = start & ~(P - 1); expected == null
                            && Long.compareUnsigned(page, start + len - 1) <= 0; page += P) {
                        ModelMapping m = owner.get(page);
                        if (m == null) {
                            expected = Errno.EINVAL;
                        } else if ((write && (m.prot & PROT_WRITE) == 0) || (m.prot & PROT_READ) == 0) {
                            expected = Errno.EPERM;
                        }
                        if (page == -P) {
                            break;
                        }
                    }
                    byte[] data = new byte[len];
                    rnd.nextBytes(data);
                    MemorySegment buf = arena.allocate(len);
                    if (write) {
                        buf.copyFrom(MemorySegment.ofArray(data));
                    }
                    Integer actual = errnoOf(() -> iommu.dmaRw(start, buf, write));
                    assertThat(actual).as(ctx + (write ? " write" : " read")).isEqualTo(expected);
                    if (expected == null) {
                        for (int i = 0; i < len; i++) {
                            long a = start + i;
                            ModelMapping m = owner.get(a & ~(P - 1));
                            int off = (int) (a - m.iova);
                            if (write) {
                                m.bytes[off] = data[i];
                            } else if (buf.getAtIndex(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != m.bytes[off]) {
                                fail(ctx + " read byte " + i + " differs from the model");
                            }
                        }
                    }
                }
                assertState(ctx, iommu, mappings, pinCounts, base);
            }
            for (HeldPin h : held) {
                h.pin.close();
            }
        }
    }

    private static void assertState(String ctx, SoftIommu iommu, TreeMap<Long, ModelMapping> mappings,
            Map<Long, Integer> pinCounts, long base) {
        List<SoftIommu.MappingInfo> expected = new ArrayList<>();
        for (ModelMapping m : mappings.values()) {
            long pinned = 0;
            for (int i = 0; i < m.pages; i++) {
                if (pinCounts.containsKey(m.iova + i * P)) {
                    pinned++;
                }
            }
            expected.add(new SoftIommu.MappingInfo(m.iova, m.pages * P, m.prot, pinned));
        }
        assertThat(iommu.mappings()).as(ctx + " mappings").isEqualTo(expected);
        assertThat(iommu.dmaAvail()).as(ctx + " dmaAvail").isEqualTo(LIMIT - mappings.size());
        for (int i = 0; i < WINDOW_PAGES; i++) {
            long page = base + i * P;
            assertThat(iommu.pinCount(page)).as(ctx + " pin count of 0x" + Long.toHexString(page))
                    .isEqualTo(pinCounts.getOrDefault(page, 0));
        }
    }

    private static Integer errnoOf(Runnable r) {
        try {
            r.run();
            return null;
        } catch (IommuException e) {
            return e.errno();
        }
    }
}
