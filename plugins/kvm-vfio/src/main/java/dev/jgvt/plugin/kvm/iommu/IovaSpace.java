package dev.jgvt.plugin.kvm.iommu;

import dev.jgvt.spi.ErrorCode;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/** The mappings of a {@link SoftIommu} by IOVA (unsigned order) and the one lock that guards them and their pins. */
final class IovaSpace {
    final ReentrantLock lock = new ReentrantLock();
    final TreeMap<Long, DmaMapping> map = new TreeMap<>(Comparator.comparing(Long::longValue, Long::compareUnsigned));

    static IommuException fail(int errno, ErrorCode code, String message) {
        return new IommuException(errno, code, message);
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    static boolean aligned(long v) {
        return (v & (SoftIommu.PAGE_SIZE - 1)) == 0;
    }

    /** Any mapping intersecting {@code [first, last]} (inclusive, unsigned), or null. Lock held. */
    DmaMapping findIntersecting(long first, long last) {
        Map.Entry<Long, DmaMapping> floor = map.floorEntry(first);
        if (floor != null && floor.getValue().contains(first)) {
            return floor.getValue();
        }
        Map.Entry<Long, DmaMapping> next = map.ceilingEntry(first);
        if (next != null && Long.compareUnsigned(next.getKey(), last) <= 0) {
            return next.getValue();
        }
        return null;
    }

    /** The mapping containing {@code address}, or null. Lock held. */
    DmaMapping find(long address) {
        Map.Entry<Long, DmaMapping> floor = map.floorEntry(address);
        return floor != null && floor.getValue().contains(address) ? floor.getValue() : null;
    }
}
