package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMulti;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMultiReply;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteRecord;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * REGION_READ, REGION_WRITE and REGION_WRITE_MULTI against the {@link DeviceModel}: an access is checked
 * against the {@link ServedLayout} and split into naturally aligned 1/2/4/8-byte device accesses.
 *
 * <p>{@link #take} and {@link #serveTaken} are the trap path: a well-formed read or write of at most 8 bytes is
 * decoded from the receive buffer in place (only the fields it needs, while the caller holds the buffer) into
 * this object's fields, and served after the caller let go of the buffer, its reply written into a reusable
 * buffer, with no allocation; anything else (including every malformed or refused access) is not taken and goes
 * through the decoded path, which produces the error reply. One thread (the serving thread) takes and serves.
 */
final class RegionIo {
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The largest data count accepted in REGION_READ/WRITE. */
    static final long MAX_DATA_XFER = 1L << 20;
    private static final int READ = Command.REGION_READ.number();
    private static final int WRITE = Command.REGION_WRITE.number();
    private static final int ACCESS_HEADER = Header.SIZE + RegionAccess.LENGTH;

    private final DeviceModel device;
    private final ServedLayout layout;
    /**
     * Per region index, at [2 * index] the size of a readable region and at [2 * index + 1] that of a writable one;
     * -1 where that access is refused (no region, or not readable/writable): the trap path's one look-up.
     */
    private final long[] limits;
    // The access taken by take(), until serveTaken(): the request header's id and flags, and the access.
    private int takenId;
    private int takenFlags;
    private boolean takenWrite;
    private int takenIndex;
    private int takenCount;
    private long takenOffset;
    private long takenValue;

    RegionIo(DeviceModel device, ServedLayout layout) {
        this.device = requireNonNull(device, "device is null");
        this.layout = requireNonNull(layout, "layout is null");
        this.limits = new long[2 * layout.numRegions()];
        for (int i = 0; i < layout.numRegions(); i++) {
            ServedLayout.Served r = layout.region(i);
            limits[2 * i] = r != null && r.readable() ? r.region().size() : -1;
            limits[2 * i + 1] = r != null && r.writable() ? r.region().size() : -1;
        }
    }

    /**
     * Takes the small REGION_READ/WRITE of {@code size} bytes at {@code at} in {@code buf} (a whole message; read
     * here only, so the caller may reuse the bytes once this returns): true if it is one the trap path serves —
     * well formed, 1 to 8 bytes, inside a region that allows the access — and then {@link #serveTaken} serves it;
     * false otherwise (the decoded path handles it, error reply included).
     */
    boolean take(MemorySegment buf, long at, int size) {
        if (size < ACCESS_HEADER) {
            return false;
        }
        // three 8-byte reads: id, command and size; flags and error; the offset; the region and the count
        long word0 = buf.get(LE_LONG, at);
        int command = (int) (word0 >>> 16) & 0xFFFF;
        boolean write = command == WRITE;
        if (!write && command != READ) {
            return false;
        }
        long word3 = buf.get(LE_LONG, at + 24);
        int index = (int) word3;
        int count = (int) (word3 >>> 32);
        if (count < 1 || count > 8 || size != ACCESS_HEADER + (write ? count : 0) || index < 0 || index >= limits.length >> 1) {
            return false;
        }
        long offset = buf.get(LE_LONG, at + 16);
        long limit = limits[2 * index + (write ? 1 : 0)];
        if (offset < 0 || offset > limit - count) { // a refused access has limit -1
            return false;
        }
        long v = 0;
        if (write) {
            if (count == 4) {
                v = Integer.toUnsignedLong(buf.get(LE_INT, at + ACCESS_HEADER));
            } else {
                for (int i = 0; i < count; i++) {
                    v |= (buf.get(ValueLayout.JAVA_BYTE, at + ACCESS_HEADER + i) & 0xFFL) << (8 * i);
                }
            }
        }
        takenId = (int) word0 & 0xFFFF;
        takenFlags = buf.get(LE_INT, at + 8);
        takenWrite = write;
        takenIndex = index;
        takenCount = count;
        takenOffset = offset;
        takenValue = v;
        return true;
    }

    /** Whether the access {@link #take taken} was sent with NO_REPLY (a posted write: never answered). */
    boolean takenNoReply() {
        return (takenFlags & Header.FLAG_NO_REPLY) != 0;
    }

    /** The request header of the access {@link #take taken}, for an error reply (allocates; not the common path). */
    Header takenHeader() {
        return new Header(takenId, takenWrite ? WRITE : READ, ACCESS_HEADER + (takenWrite ? takenCount : 0), takenFlags, 0);
    }

    /**
     * Serves the access {@link #take taken} against the device and writes the whole reply message into {@code reply};
     * returns its length.
     */
    int serveTaken(MemorySegment reply) {
        int count = takenCount;
        long offset = takenOffset;
        int index = takenIndex;
        int replySize;
        if (takenWrite) {
            writeValue(index, offset, count, takenValue);
            replySize = ACCESS_HEADER;
        } else {
            long v = readValue(index, offset, count);
            if (count == 4) {
                reply.set(LE_INT, ACCESS_HEADER, (int) v);
            } else {
                for (int i = 0; i < count; i++) {
                    reply.set(ValueLayout.JAVA_BYTE, ACCESS_HEADER + i, (byte) (v >>> (8 * i)));
                }
            }
            replySize = ACCESS_HEADER + count;
        }
        reply.set(LE_INT, 0, takenId | (takenWrite ? WRITE : READ) << 16);
        reply.set(LE_INT, 4, replySize);
        reply.set(LE_LONG, 8, Header.TYPE_REPLY); // flags, error 0
        reply.set(LE_LONG, 16, offset);
        reply.set(LE_LONG, 24, Integer.toUnsignedLong(index) | (long) count << 32);
        return replySize;
    }

    /** {@code count} (1..8) bytes at {@code offset} as naturally aligned device reads, little-endian. */
    private long readValue(int index, long offset, int count) {
        long v = 0;
        for (int done = 0; done < count; ) {
            int size = piece(offset + done, count - done);
            v |= (device.read(index, offset + done, size) & mask(size)) << (8 * done);
            done += size;
        }
        return v;
    }

    private void writeValue(int index, long offset, int count, long v) {
        for (int done = 0; done < count; ) {
            int size = piece(offset + done, count - done);
            device.write(index, offset + done, size, (v >>> (8 * done)) & mask(size));
            done += size;
        }
    }

    private static long mask(int size) {
        return size == 8 ? -1L : (1L << (8 * size)) - 1;
    }

    /** The size of the next device access: the largest naturally aligned 1, 2, 4 or 8 that fits. */
    static int piece(long offset, long remaining) {
        int size = 8;
        while (size > 1 && ((offset & (size - 1)) != 0 || size > remaining)) {
            size >>= 1;
        }
        return size;
    }

    private ServedLayout.Served accessible(int index, long offset, long count, boolean write) {
        ServedLayout.Served r = layout.region(index);
        if (r == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "region " + Integer.toUnsignedString(index) + " does not exist");
        }
        if (write ? !r.writable() : !r.readable()) {
            throw new GvtException(ErrorCode.PERMISSION_DENIED, "region " + r.region().name() + " is not " + (write ? "writable" : "readable"));
        }
        if (count < 1 || count > MAX_DATA_XFER) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "count " + count + " outside 1.." + MAX_DATA_XFER);
        }
        long size = r.region().size();
        if (offset < 0 || offset > size || count > size - offset) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "offset 0x" + Long.toHexString(offset) + " count " + count
                    + " outside region " + r.region().name() + " of 0x" + Long.toHexString(size) + " bytes");
        }
        return r;
    }

    RegionAccess read(RegionAccess request) {
        long count = Integer.toUnsignedLong(request.count());
        accessible(request.region(), request.offset(), count, false);
        byte[] data = new byte[(int) count];
        for (long done = 0; done < count; ) {
            int size = piece(request.offset() + done, count - done);
            long v = device.read(request.region(), request.offset() + done, size);
            for (int i = 0; i < size; i++) {
                data[(int) done + i] = (byte) (v >>> (8 * i));
            }
            done += size;
        }
        return new RegionAccess(request.offset(), request.region(), request.count(), data);
    }

    RegionAccess write(RegionAccess request) {
        accessible(request.region(), request.offset(), Integer.toUnsignedLong(request.count()), true);
        writeBytes(request.region(), request.offset(), request.data());
        return new RegionAccess(request.offset(), request.region(), request.count());
    }

    private void writeBytes(int region, long offset, byte[] data) {
        for (long done = 0; done < data.length; ) {
            int size = piece(offset + done, data.length - done);
            long v = 0;
            for (int i = 0; i < size; i++) {
                v |= (data[(int) done + i] & 0xFFL) << (8 * i);
            }
            device.write(region, offset + done, size, v);
            done += size;
        }
    }

    WriteMultiReply writeMulti(WriteMulti request) {
        long done = 0;
        for (WriteRecord w : request.writes()) {
            accessible(w.region(), w.offset(), w.count(), true);
            byte[] bytes = new byte[w.count()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (w.data() >>> (8 * i));
            }
            writeBytes(w.region(), w.offset(), bytes);
            done++;
        }
        return new WriteMultiReply(done);
    }
}
