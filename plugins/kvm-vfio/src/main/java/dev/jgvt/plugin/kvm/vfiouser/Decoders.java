package dev.jgvt.plugin.kvm.vfiouser;

import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceFeature;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.MigData;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionCap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.SparseMmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TypeCap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.UnknownCap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMulti;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMultiReply;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteRecord;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Payload decoders, one per payload shape; each validates every length and count it reads. */
final class Decoders {
    private Decoders() {}

    private static long u(int v) {
        return Integer.toUnsignedLong(v);
    }

    private static int argsz(Wire w, int min) {
        int argsz = w.u32("argsz");
        if (u(argsz) < min) {
            throw w.error("argsz " + u(argsz) + " is smaller than the " + min + "-byte structure");
        }
        return argsz;
    }

    static Payload empty(Wire w) {
        w.end("empty payload");
        return Payload.Empty.INSTANCE;
    }

    static Payload opaque(Wire w) {
        return new Payload.Opaque(w.rest());
    }

    static Payload version(Wire w) {
        int major = w.u16("major");
        int minor = w.u16("minor");
        if (w.remaining() == 0) {
            return new Payload.Version(major, minor, Optional.empty());
        }
        byte[] raw = w.rest();
        if (raw[raw.length - 1] != 0) {
            throw w.error("json is not NUL-terminated");
        }
        for (int i = 0; i < raw.length - 1; i++) {
            if (raw[i] == 0) {
                throw w.error("json has a NUL byte at offset " + i + " before its end");
            }
        }
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw, 0, raw.length - 1))
                    .toString();
        } catch (CharacterCodingException e) {
            throw w.error("json is not valid UTF-8");
        }
        Payload.Version v = new Payload.Version(major, minor, Optional.of(json));
        v.capabilities(); // validates the document now, so a bad VERSION fails at decode
        return v;
    }

    static Payload dmaMap(Wire w) {
        int argsz = argsz(w, DmaMap.LENGTH);
        DmaMap m = new DmaMap(argsz, w.u32("flags"), w.u64("offset"), w.u64("address"), w.u64("size"));
        w.end("dma_map structure");
        return m;
    }

    static Payload dmaUnmap(Wire w) {
        int argsz = argsz(w, DmaUnmap.LENGTH);
        int flags = w.u32("flags");
        long address = w.u64("address");
        long size = w.u64("size");
        if ((flags & DmaUnmap.FLAG_GET_DIRTY_BITMAP) != 0) {
            return new DmaUnmap(argsz, flags, address, size, w.rest());
        }
        w.end("dma_unmap structure");
        return new DmaUnmap(argsz, flags, address, size);
    }

    static Payload deviceInfo(Wire w) {
        int argsz = argsz(w, DeviceInfo.LENGTH);
        DeviceInfo d = new DeviceInfo(argsz, w.u32("flags"), w.u32("num_regions"), w.u32("num_irqs"));
        w.endWithZeroPaddingUpTo(u(argsz), "device_info structure");
        return d;
    }

    static Payload regionInfoRequest(Wire w) {
        int argsz = argsz(w, RegionInfo.LENGTH);
        int flags = w.u32("flags");
        int index = w.u32("index");
        int capOffset = w.u32("cap_offset");
        long size = w.u64("size");
        long offset = w.u64("offset");
        if (capOffset != 0) {
            throw w.error("cap_offset " + u(capOffset) + " in a request must be 0");
        }
        w.endWithZeroPaddingUpTo(u(argsz), "region_info structure");
        return new RegionInfo(argsz, flags, index, size, offset, List.of());
    }

    static Payload regionInfoReply(Wire w) {
        int argsz = argsz(w, RegionInfo.LENGTH);
        int flags = w.u32("flags");
        int index = w.u32("index");
        int capOffset = w.u32("cap_offset");
        long size = w.u64("size");
        long offset = w.u64("offset");
        if (capOffset == 0) {
            w.endWithZeroPaddingUpTo(u(argsz), "region_info structure");
            return new RegionInfo(argsz, flags, index, size, offset, List.of());
        }
        List<RegionCap> caps = new ArrayList<>();
        long at = u(capOffset);
        if (at < RegionInfo.LENGTH || at + 8 > w.length()) {
            throw w.error("cap_offset " + at + " outside " + RegionInfo.LENGTH + ".." + (w.length() - 8));
        }
        while (at != 0) {
            w.seek((int) at);
            int id = w.u16("cap.id");
            int version = w.u16("cap.version");
            long next = u(w.u32("cap.next"));
            if (next != 0 && (next < at + 8 || next + 8 > w.length())) {
                throw w.error("cap at " + at + ": next " + next + " must be 0 or a later offset inside the payload");
            }
            int end = next == 0 ? w.length() : (int) next;
            caps.add(switch (id) {
                case SparseMmap.ID -> {
                    long nr = u(w.u32("sparse_mmap.nr_areas"));
                    int reserved = w.u32("sparse_mmap.reserved");
                    if (reserved != 0) {
                        // vfio.h's struct: reserved for alignment; a non-zero value means something this decoder
                        // does not understand, and re-encoding it as 0 would not be the message received
                        throw w.error("sparse_mmap.reserved is 0x" + Integer.toHexString(reserved) + ", must be 0");
                    }
                    if (nr > (end - w.position()) / 16) {
                        throw w.error("sparse_mmap.nr_areas " + nr + " does not fit the " + (end - w.position())
                                + " bytes of the capability");
                    }
                    List<SparseMmap.Area> areas = new ArrayList<>();
                    for (long i = 0; i < nr; i++) {
                        areas.add(new SparseMmap.Area(w.u64("sparse_mmap.area.offset"), w.u64("sparse_mmap.area.size")));
                    }
                    yield new SparseMmap(version, areas);
                }
                case TypeCap.ID -> new TypeCap(version, w.u32("type.type"), w.u32("type.subtype"));
                default -> new UnknownCap(id, version, w.bytes(end - w.position(), "cap " + id + " body"));
            });
            if (next != 0 && w.position() != next) {
                throw w.error("cap " + id + " at " + at + " is " + (w.position() - at) + " bytes but next is at " + next);
            }
            at = next;
        }
        w.endWithZeroPaddingUpTo(Math.max(u(argsz), w.length()), "capability chain");
        return new RegionInfo(argsz, flags, index, size, offset, caps);
    }

    static Payload irqInfo(Wire w) {
        int argsz = argsz(w, IrqInfo.LENGTH);
        IrqInfo i = new IrqInfo(argsz, w.u32("flags"), w.u32("index"), w.u32("count"));
        w.endWithZeroPaddingUpTo(u(argsz), "irq_info structure");
        return i;
    }

    static Payload irqSet(Wire w) {
        int argsz = argsz(w, IrqSet.LENGTH);
        int flags = w.u32("flags");
        int index = w.u32("index");
        int start = w.u32("start");
        int count = w.u32("count");
        if (u(argsz) != w.length()) {
            throw w.error("argsz " + u(argsz) + " but the payload has " + w.length() + " bytes");
        }
        int data = flags & (IrqSet.DATA_NONE | IrqSet.DATA_BOOL | IrqSet.DATA_EVENTFD);
        int action = flags & (IrqSet.ACTION_MASK | IrqSet.ACTION_UNMASK | IrqSet.ACTION_TRIGGER);
        if ((flags & ~0x3F) != 0) {
            throw w.error("flags 0x" + Integer.toHexString(flags) + " has unknown bits");
        }
        if (Integer.bitCount(data) != 1 || Integer.bitCount(action) != 1) {
            throw w.error("flags 0x" + Integer.toHexString(flags) + " must have exactly one DATA and one ACTION bit");
        }
        byte[] bytes = w.rest();
        long expected = data == IrqSet.DATA_BOOL ? u(count) : 0;
        if (bytes.length != expected) {
            throw w.error("count " + u(count) + " needs " + expected + " data bytes but " + bytes.length + " follow");
        }
        return new IrqSet(argsz, flags, index, start, count, bytes);
    }

    static Payload regionAccessNoData(Wire w) {
        RegionAccess r = new RegionAccess(w.u64("offset"), w.u32("region"), w.u32("count"));
        w.end("region access structure");
        return r;
    }

    static Payload regionAccessWithData(Wire w) {
        long offset = w.u64("offset");
        int region = w.u32("region");
        int count = w.u32("count");
        if (u(count) != w.remaining()) {
            throw w.error("count " + u(count) + " but " + w.remaining() + " data bytes follow");
        }
        return new RegionAccess(offset, region, count, w.rest());
    }

    static Payload dmaAccessNoData(Wire w) {
        DmaAccess d = new DmaAccess(w.u64("address"), w.u64("count"));
        w.end("dma access structure");
        return d;
    }

    static Payload dmaAccessWithData(Wire w) {
        long address = w.u64("address");
        long count = w.u64("count");
        if (count != w.remaining()) {
            throw w.error("count " + Long.toUnsignedString(count) + " but " + w.remaining() + " data bytes follow");
        }
        return new DmaAccess(address, count, w.rest());
    }

    static Payload writeMulti(Wire w) {
        long n = w.u64("wr_cnt");
        if (n < 1 || n != w.remaining() / WriteRecord.LENGTH || w.remaining() % WriteRecord.LENGTH != 0) {
            throw w.error("wr_cnt " + Long.toUnsignedString(n) + " but " + w.remaining() + " record bytes follow ("
                    + WriteRecord.LENGTH + " per record)");
        }
        List<WriteRecord> writes = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            long offset = w.u64("write.offset");
            int region = w.u32("write.region");
            int count = w.u32("write.count");
            long data = w.u64("write.data");
            if (count < 1 || count > 8) {
                throw w.error("write " + i + ": count " + u(count) + " outside 1..8");
            }
            writes.add(new WriteRecord(offset, region, count, data));
        }
        return new WriteMulti(writes);
    }

    static Payload writeMultiReply(Wire w) {
        WriteMultiReply r = new WriteMultiReply(w.u64("wr_cnt"));
        w.end("write_multi reply");
        return r;
    }

    static Payload deviceFeature(Wire w) {
        int argsz = argsz(w, DeviceFeature.LENGTH);
        return new DeviceFeature(argsz, w.u32("flags"), w.rest());
    }

    static Payload migDataReadRequest(Wire w) {
        MigData m = new MigData(w.u32("argsz"), w.u32("size"), new byte[0]);
        w.end("mig_data structure");
        return m;
    }

    static Payload migData(Wire w) {
        int argsz = w.u32("argsz");
        int size = w.u32("size");
        if (u(size) > w.remaining()) {
            throw w.error("size " + u(size) + " but only " + w.remaining() + " data bytes follow");
        }
        return new MigData(argsz, size, w.rest());
    }
}
