package dev.jgvt.plugin.xen.emu;

import dev.jgvt.plugin.xen.abi.BufferedIoreq;
import dev.jgvt.plugin.xen.abi.XenConst;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

/** One ioreq server of an emulated domain. Guarded by the domain's lock. */
final class EmulatedIoreqServer {
    enum PageMethod {
        UNDECIDED,
        RESOURCE,
        GFNS
    }

    final int id;
    final int creatorDomid;
    final int bufioreqMode;
    final MemorySegment ioreqPage;
    final MemorySegment bufioreqPage;
    final EventChannelHub.Endpoint[] vcpuPorts;
    final EventChannelHub.Endpoint bufioreqPort;
    /** Per range type, inclusive ranges start to end, non-overlapping. */
    @SuppressWarnings("unchecked")
    final TreeMap<Long, Long>[] ranges = new TreeMap[3];
    boolean enabled;
    PageMethod pageMethod = PageMethod.UNDECIDED;
    long ioreqGfn = -1;
    long bufioreqGfn = -1;

    EmulatedIoreqServer(int id, int creatorDomid, int bufioreqMode, Arena arena, EventChannelHub.Endpoint[] vcpuPorts,
            EventChannelHub.Endpoint bufioreqPort) {
        this.id = id;
        this.creatorDomid = creatorDomid;
        this.bufioreqMode = bufioreqMode;
        this.ioreqPage = arena.allocate(XenConst.PAGE_SIZE, XenConst.PAGE_SIZE);
        this.bufioreqPage = bufioreqMode == BufferedIoreq.BUFIOREQ_OFF
                ? null
                : arena.allocate(BufferedIoreq.PAGE_BYTES, XenConst.PAGE_SIZE);
        this.vcpuPorts = vcpuPorts;
        this.bufioreqPort = bufioreqPort;
        for (int i = 0; i < ranges.length; i++) {
            ranges[i] = new TreeMap<>();
        }
    }

    /** Whether {@code [first, last]} lies entirely inside one range of {@code type}. */
    boolean covers(int type, long first, long last) {
        Map.Entry<Long, Long> entry = ranges[type].floorEntry(first);
        return entry != null && Long.compareUnsigned(last, entry.getValue()) <= 0 && Long.compareUnsigned(first, last) <= 0;
    }

    boolean overlaps(int type, long start, long end) {
        Map.Entry<Long, Long> below = ranges[type].floorEntry(end);
        return below != null && below.getValue() >= start;
    }

    int rangeCount() {
        return ranges[0].size() + ranges[1].size() + ranges[2].size();
    }
}
