package dev.jgvt.plugin.kvm.vfiouser;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The payload of one vfio-user message, after the 16-byte header. Each record writes itself in the
 * canonical layout ({@link #length()} bytes, little-endian); {@link VfioUserCodec} decodes them. Unsigned
 * 32-bit fields are Java {@code int}s, unsigned 64-bit fields {@code long}s (compare with the unsigned
 * helpers). Byte arrays are owned by the record once passed in.
 */
public sealed interface Payload {
    /** Up to 32 bytes as hex, for messages. */
    private static String hex(byte[] bytes) {
        String h = HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 32));
        return bytes.length + " bytes " + h + (bytes.length > 32 ? "..." : "");
    }

    /** Bytes this payload occupies on the wire. */
    int length();

    /** Writes {@link #length()} bytes at the buffer's position (little-endian buffer). */
    void write(ByteBuffer out);

    /** No payload: error replies, DMA_MAP/SET_IRQS/RESET/MIG_DATA_WRITE replies, DEVICE_RESET. */
    record Empty() implements Payload {
        public static final Empty INSTANCE = new Empty();

        @Override
        public int length() {
            return 0;
        }

        @Override
        public void write(ByteBuffer out) {}
    }

    /** Bytes of a command this codec does not structure (GET_REGION_IO_FDS). */
    record Opaque(byte[] bytes) implements Payload {

        @Override
        public boolean equals(Object other) {
            return other instanceof Opaque o && Arrays.equals(bytes, o.bytes);
        }

        @Override
        public int hashCode() {
            int h = 0;
            h = 31 * h + Arrays.hashCode(bytes);
            return h;
        }

        @Override
        public String toString() {
            return "Opaque[" + "bytes=" + hex(bytes) + "]";
        }
        public Opaque {
            requireNonNull(bytes, "bytes is null");
        }

        @Override
        public int length() {
            return bytes.length;
        }

        @Override
        public void write(ByteBuffer out) {
            out.put(bytes);
        }
    }

    /** VERSION (both directions): {@code u16 major, u16 minor}, then optional NUL-terminated UTF-8 JSON. */
    record Version(int major, int minor, Optional<String> json) implements Payload {
        public Version {
            requireNonNull(json, "json is null");
            if (major < 0 || major > 0xFFFF || minor < 0 || minor > 0xFFFF) {
                throw new IllegalArgumentException("version " + major + "." + minor + " outside u16");
            }
        }

        /** The capabilities, with defaults for whatever is absent. */
        public Capabilities capabilities() {
            return json.map(Capabilities::parse).orElse(Capabilities.DEFAULTS);
        }

        @Override
        public int length() {
            return 4 + json.map(j -> j.getBytes(StandardCharsets.UTF_8).length + 1).orElse(0);
        }

        @Override
        public void write(ByteBuffer out) {
            out.putShort((short) major).putShort((short) minor);
            json.ifPresent(j -> out.put(j.getBytes(StandardCharsets.UTF_8)).put((byte) 0));
        }
    }

    /** DMA_MAP request: {@code argsz, flags (READ 1, WRITE 2), offset (in the fd), address (IOVA), size}. */
    record DmaMap(int argsz, int flags, long offset, long address, long size) implements Payload {
        public static final int LENGTH = 32;
        public static final int FLAG_READ = 1;
        public static final int FLAG_WRITE = 2;

        @Override
        public int length() {
            return LENGTH;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putLong(offset).putLong(address).putLong(size);
        }
    }

    /**
     * DMA_UNMAP request and reply: {@code argsz, flags (GET_DIRTY_BITMAP 1, ALL 2), address, size}; with
     * GET_DIRTY_BITMAP the bitmap description/data follows and is kept as raw bytes.
     */
    record DmaUnmap(int argsz, int flags, long address, long size, byte[] bitmap) implements Payload {

        @Override
        public boolean equals(Object other) {
            return other instanceof DmaUnmap o && argsz == o.argsz && flags == o.flags && address == o.address && size == o.size && Arrays.equals(bitmap, o.bitmap);
        }

        @Override
        public int hashCode() {
            int h = 0;
            h = 31 * h + Integer.hashCode(argsz);
            h = 31 * h + Integer.hashCode(flags);
            h = 31 * h + Long.hashCode(address);
            h = 31 * h + Long.hashCode(size);
            h = 31 * h + Arrays.hashCode(bitmap);
            return h;
        }

        @Override
        public String toString() {
            return "DmaUnmap[" + "argsz=" + argsz + ", " + "flags=" + flags + ", " + "address=" + address + ", " + "size=" + size + ", " + "bitmap=" + hex(bitmap) + "]";
        }
        public static final int LENGTH = 24;
        public static final int FLAG_GET_DIRTY_BITMAP = 1;
        public static final int FLAG_ALL = 2;

        public DmaUnmap {
            requireNonNull(bitmap, "bitmap is null");
        }

        public DmaUnmap(int argsz, int flags, long address, long size) {
            this(argsz, flags, address, size, new byte[0]);
        }

        @Override
        public int length() {
            return LENGTH + bitmap.length;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putLong(address).putLong(size).put(bitmap);
        }
    }

    /** DEVICE_GET_INFO request and reply: {@code argsz, flags, num_regions, num_irqs}. */
    record DeviceInfo(int argsz, int flags, int numRegions, int numIrqs) implements Payload {
        public static final int LENGTH = 16;

        @Override
        public int length() {
            return LENGTH;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putInt(numRegions).putInt(numIrqs);
        }
    }

    /** A capability of a region-info reply. */
    sealed interface RegionCap {
        int id();

        int version();

        /** Bytes including the 8-byte {@code id, version, next} header. */
        int length();

        /** Writes the body after the cap header. */
        void writeBody(ByteBuffer out);
    }

    /** {@code VFIO_REGION_INFO_CAP_SPARSE_MMAP} (id 1): mmappable areas of the region. */
    record SparseMmap(int version, List<Area> areas) implements RegionCap {
        public static final int ID = 1;

        public SparseMmap {
            areas = List.copyOf(areas);
        }

        /** One mmappable area, relative to the region. */
        public record Area(long offset, long size) {}

        @Override
        public int id() {
            return ID;
        }

        @Override
        public int length() {
            return 8 + 8 + 16 * areas.size();
        }

        @Override
        public void writeBody(ByteBuffer out) {
            out.putInt(areas.size()).putInt(0);
            for (Area a : areas) {
                out.putLong(a.offset()).putLong(a.size());
            }
        }
    }

    /** {@code VFIO_REGION_INFO_CAP_TYPE} (id 2): a device-specific region's type and subtype. */
    record TypeCap(int version, int type, int subtype) implements RegionCap {
        public static final int ID = 2;

        @Override
        public int id() {
            return ID;
        }

        @Override
        public int length() {
            return 16;
        }

        @Override
        public void writeBody(ByteBuffer out) {
            out.putInt(type).putInt(subtype);
        }
    }

    /** A capability this codec does not interpret; its body runs to the next capability or the payload's end. */
    record UnknownCap(int id, int version, byte[] body) implements RegionCap {

        @Override
        public boolean equals(Object other) {
            return other instanceof UnknownCap o && id == o.id && version == o.version && Arrays.equals(body, o.body);
        }

        @Override
        public int hashCode() {
            int h = 0;
            h = 31 * h + Integer.hashCode(id);
            h = 31 * h + Integer.hashCode(version);
            h = 31 * h + Arrays.hashCode(body);
            return h;
        }

        @Override
        public String toString() {
            return "UnknownCap[" + "id=" + id + ", " + "version=" + version + ", " + "body=" + hex(body) + "]";
        }
        public UnknownCap {
            requireNonNull(body, "body is null");
        }

        @Override
        public int length() {
            return 8 + body.length;
        }

        @Override
        public void writeBody(ByteBuffer out) {
            out.put(body);
        }
    }

    /**
     * DEVICE_GET_REGION_INFO request and reply: {@code argsz, flags, index, cap_offset, size, offset}, and in
     * a reply a capability chain. {@code cap_offset} is derived: capabilities are written back to back
     * from offset 32, each {@code next} pointing at the following one.
     */
    record RegionInfo(int argsz, int flags, int index, long size, long offset, List<RegionCap> caps) implements Payload {
        public static final int LENGTH = 32;
        public static final int FLAG_READ = 1;
        public static final int FLAG_WRITE = 2;
        public static final int FLAG_MMAP = 4;
        public static final int FLAG_CAPS = 8;

        public RegionInfo {
            caps = List.copyOf(caps);
        }

        public int capOffset() {
            return caps.isEmpty() ? 0 : LENGTH;
        }

        @Override
        public int length() {
            int n = LENGTH;
            for (RegionCap c : caps) {
                n += c.length();
            }
            return n;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putInt(index).putInt(capOffset()).putLong(size).putLong(offset);
            int at = LENGTH;
            for (int i = 0; i < caps.size(); i++) {
                RegionCap c = caps.get(i);
                int next = i + 1 < caps.size() ? at + c.length() : 0;
                out.putShort((short) c.id()).putShort((short) c.version()).putInt(next);
                c.writeBody(out);
                at += c.length();
            }
        }
    }

    /** DEVICE_GET_IRQ_INFO request and reply: {@code argsz, flags, index, count}. */
    record IrqInfo(int argsz, int flags, int index, int count) implements Payload {
        public static final int LENGTH = 16;

        @Override
        public int length() {
            return LENGTH;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putInt(index).putInt(count);
        }
    }

    /**
     * DEVICE_SET_IRQS request: {@code argsz, flags, index, start, count}, then for DATA_BOOL one byte per
     * vector (eventfds travel as SCM_RIGHTS fds, not in the payload).
     */
    record IrqSet(int argsz, int flags, int index, int start, int count, byte[] data) implements Payload {

        @Override
        public boolean equals(Object other) {
            return other instanceof IrqSet o && argsz == o.argsz && flags == o.flags && index == o.index && start == o.start && count == o.count && Arrays.equals(data, o.data);
        }

        @Override
        public int hashCode() {
            int h = 0;
            h = 31 * h + Integer.hashCode(argsz);
            h = 31 * h + Integer.hashCode(flags);
            h = 31 * h + Integer.hashCode(index);
            h = 31 * h + Integer.hashCode(start);
            h = 31 * h + Integer.hashCode(count);
            h = 31 * h + Arrays.hashCode(data);
            return h;
        }

        @Override
        public String toString() {
            return "IrqSet[" + "argsz=" + argsz + ", " + "flags=" + flags + ", " + "index=" + index + ", " + "start=" + start + ", " + "count=" + count + ", " + "data=" + hex(data) + "]";
        }
        public static final int LENGTH = 20;
        public static final int DATA_NONE = 1;
        public static final int DATA_BOOL = 2;
        public static final int DATA_EVENTFD = 4;
        public static final int ACTION_MASK = 8;
        public static final int ACTION_UNMASK = 16;
        public static final int ACTION_TRIGGER = 32;

        public IrqSet {
            requireNonNull(data, "data is null");
        }

        @Override
        public int length() {
            return LENGTH + data.length;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putInt(index).putInt(start).putInt(count).put(data);
        }
    }

    /**
     * REGION_READ/REGION_WRITE request and reply: {@code u64 offset, u32 region, u32 count}, then
     * {@code data} (the read reply and the write request carry {@code count} bytes; the others none).
     */
    record RegionAccess(long offset, int region, int count, byte[] data) implements Payload {

        @Override
        public boolean equals(Object other) {
            return other instanceof RegionAccess o && offset == o.offset && region == o.region && count == o.count && Arrays.equals(data, o.data);
        }

        @Override
        public int hashCode() {
            int h = 0;
            h = 31 * h + Long.hashCode(offset);
            h = 31 * h + Integer.hashCode(region);
            h = 31 * h + Integer.hashCode(count);
            h = 31 * h + Arrays.hashCode(data);
            return h;
        }

        @Override
        public String toString() {
            return "RegionAccess[" + "offset=" + offset + ", " + "region=" + region + ", " + "count=" + count + ", " + "data=" + hex(data) + "]";
        }
        public static final int LENGTH = 16;

        public RegionAccess {
            requireNonNull(data, "data is null");
        }

        public RegionAccess(long offset, int region, int count) {
            this(offset, region, count, new byte[0]);
        }

        @Override
        public int length() {
            return LENGTH + data.length;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putLong(offset).putInt(region).putInt(count).put(data);
        }
    }

    /**
     * DMA_READ/DMA_WRITE request and reply: {@code u64 address, u64 count}, then {@code data} (the read reply
     * and the write request carry {@code count} bytes).
     */
    record DmaAccess(long address, long count, byte[] data) implements Payload {

        @Override
        public boolean equals(Object other) {
            return other instanceof DmaAccess o && address == o.address && count == o.count && Arrays.equals(data, o.data);
        }

        @Override
        public int hashCode() {
            int h = 0;
            h = 31 * h + Long.hashCode(address);
            h = 31 * h + Long.hashCode(count);
            h = 31 * h + Arrays.hashCode(data);
            return h;
        }

        @Override
        public String toString() {
            return "DmaAccess[" + "address=" + address + ", " + "count=" + count + ", " + "data=" + hex(data) + "]";
        }
        public static final int LENGTH = 16;

        public DmaAccess {
            requireNonNull(data, "data is null");
        }

        public DmaAccess(long address, long count) {
            this(address, count, new byte[0]);
        }

        @Override
        public int length() {
            return LENGTH + data.length;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putLong(address).putLong(count).put(data);
        }
    }

    /** One REGION_WRITE_MULTI record: up to 8 bytes written at {@code offset} of {@code region}. */
    record WriteRecord(long offset, int region, int count, long data) {
        public static final int LENGTH = 24;

        public WriteRecord {
            if (count < 1 || count > 8) {
                throw new IllegalArgumentException("write record count " + count + " outside 1..8");
            }
        }
    }

    /** REGION_WRITE_MULTI request: {@code u64 wr_cnt}, then 24-byte records. */
    record WriteMulti(List<WriteRecord> writes) implements Payload {
        public WriteMulti {
            writes = List.copyOf(writes);
        }

        @Override
        public int length() {
            return 8 + WriteRecord.LENGTH * writes.size();
        }

        @Override
        public void write(ByteBuffer out) {
            out.putLong(writes.size());
            for (WriteRecord w : writes) {
                out.putLong(w.offset()).putInt(w.region()).putInt(w.count()).putLong(w.data());
            }
        }
    }

    /** REGION_WRITE_MULTI reply: {@code u64 wr_cnt} completed. */
    record WriteMultiReply(long count) implements Payload {
        @Override
        public int length() {
            return 8;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putLong(count);
        }
    }

    /** DEVICE_FEATURE request and reply: {@code argsz, flags (feature 0–15, GET 1<<16, SET 1<<17, PROBE 1<<18)}, data. */
    record DeviceFeature(int argsz, int flags, byte[] data) implements Payload {

        @Override
        public boolean equals(Object other) {
            return other instanceof DeviceFeature o && argsz == o.argsz && flags == o.flags && Arrays.equals(data, o.data);
        }

        @Override
        public int hashCode() {
            int h = 0;
            h = 31 * h + Integer.hashCode(argsz);
            h = 31 * h + Integer.hashCode(flags);
            h = 31 * h + Arrays.hashCode(data);
            return h;
        }

        @Override
        public String toString() {
            return "DeviceFeature[" + "argsz=" + argsz + ", " + "flags=" + flags + ", " + "data=" + hex(data) + "]";
        }
        public static final int LENGTH = 8;

        public DeviceFeature {
            requireNonNull(data, "data is null");
        }

        @Override
        public int length() {
            return LENGTH + data.length;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).put(data);
        }
    }

    /** MIG_DATA_READ/WRITE: {@code argsz, size}, then data ({@code size} valid bytes; a read reply may carry more). */
    record MigData(int argsz, int size, byte[] data) implements Payload {

        @Override
        public boolean equals(Object other) {
            return other instanceof MigData o && argsz == o.argsz && size == o.size && Arrays.equals(data, o.data);
        }

        @Override
        public int hashCode() {
            int h = 0;
            h = 31 * h + Integer.hashCode(argsz);
            h = 31 * h + Integer.hashCode(size);
            h = 31 * h + Arrays.hashCode(data);
            return h;
        }

        @Override
        public String toString() {
            return "MigData[" + "argsz=" + argsz + ", " + "size=" + size + ", " + "data=" + hex(data) + "]";
        }
        public static final int LENGTH = 8;

        public MigData {
            requireNonNull(data, "data is null");
        }

        @Override
        public int length() {
            return LENGTH + data.length;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt(argsz).putInt(size).put(data);
        }
    }

    /**
     * {@code TRACK_SET} (vendor extension {@code x-jgvt-page-tracking}, server to client) request and reply:
     * {@code argsz, flags (PROTECT 1 | UNPROTECT 2), count, reserved}, then {@code count} guest frame numbers
     * (request only; the reply echoes the 16-byte prefix with no frames).
     */
    record TrackSet(int argsz, int flags, int count, long[] gfns) implements Payload {
        public static final int LENGTH = 16;
        public static final int FLAG_PROTECT = 1;
        public static final int FLAG_UNPROTECT = 2;

        public TrackSet {
            requireNonNull(gfns, "gfns is null");
        }

        /** A request for {@code gfns}. */
        public static TrackSet request(boolean protect, long... gfns) {
            return new TrackSet(LENGTH + 8 * gfns.length, protect ? FLAG_PROTECT : FLAG_UNPROTECT, gfns.length, gfns.clone());
        }

        /** The reply: this request's prefix without frames. */
        public TrackSet reply() {
            return new TrackSet(argsz, flags, count, new long[0]);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof TrackSet o && argsz == o.argsz && flags == o.flags && count == o.count && Arrays.equals(gfns, o.gfns);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * (31 * argsz + flags) + count) + Arrays.hashCode(gfns);
        }

        @Override
        public String toString() {
            return "TrackSet[argsz=" + argsz + ", flags=" + flags + ", count=" + count + ", gfns=" + Arrays.toString(gfns) + "]";
        }

        @Override
        public int length() {
            return LENGTH + 8 * gfns.length;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putInt(argsz).putInt(flags).putInt(count).putInt(0);
            for (long g : gfns) {
                out.putLong(g);
            }
        }
    }

    /**
     * {@code TRACKED_WRITE} (vendor extension, client to server): {@code u64 gpa, u32 count, u32 flags}, then
     * {@code count} bytes the guest wrote (already committed to guest RAM). The reply, if asked for, is empty.
     */
    record TrackedWrite(long gpa, int flags, byte[] data) implements Payload {
        public static final int LENGTH = 16;

        public TrackedWrite {
            requireNonNull(data, "data is null");
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof TrackedWrite o && gpa == o.gpa && flags == o.flags && Arrays.equals(data, o.data);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Long.hashCode(gpa) + flags) + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "TrackedWrite[gpa=0x" + Long.toHexString(gpa) + ", flags=" + flags + ", data=" + hex(data) + "]";
        }

        @Override
        public int length() {
            return LENGTH + data.length;
        }

        @Override
        public void write(ByteBuffer out) {
            out.putLong(gpa).putInt(data.length).putInt(flags).put(data);
        }
    }
}
