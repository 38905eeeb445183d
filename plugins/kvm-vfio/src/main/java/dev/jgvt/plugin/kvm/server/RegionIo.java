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
 * <p>{@link #tryFast} is the trap path: a well-formed read or write of at most 8 bytes is decoded from the
 * request bytes in place (only the fields it needs) and its reply written into a reusable buffer, with no
 * allocation; anything else (including every malformed or refused access) returns false and goes through the
 * decoded path, which produces the error reply.
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

    RegionIo(DeviceModel device, ServedLayout layout) {
        this.device = requireNonNull(device, "device is null");
        this.layout = requireNonNull(layout, "layout is null");
    }

    /**
     * Serves a small REGION_READ/WRITE from {@code req} (a whole message of {@code size} bytes) and writes the
     * whole reply message into {@code reply}; returns its length, or -1 if the request is not one this path
     * takes (it is then handled by the decoded path).
     */
    int tryFast(MemorySegment req, int size, MemorySegment reply) {
        int command = Short.toUnsignedInt(req.get(LE_SHORT, 2));
        if (size < ACCESS_HEADER || (command != READ && command != WRITE)) {
            return -1;
        }
        long offset = req.get(LE_LONG, 16);
        int index = req.get(LE_INT, 24);
        int count = req.get(LE_INT, 28);
        boolean write = command == WRITE;
        if (count < 1 || count > 8 || size != ACCESS_HEADER + (write ? count : 0)) {
            return -1;
        }
        ServedLayout.Served r = layout.region(index);
        if (r == null || !(write ? r.writable() : r.readable()) || offset < 0 || offset > r.region().size() - count) {
            return -1;
        }
        int replySize = ACCESS_HEADER + (write ? 0 : count);
        if (write) {
            long v = 0;
            for (int i = 0; i < count; i++) {
                v |= (req.get(ValueLayout.JAVA_BYTE, ACCESS_HEADER + i) & 0xFFL) << (8 * i);
            }
            writeValue(index, offset, count, v);
        } else {
            long v = readValue(index, offset, count);
            for (int i = 0; i < count; i++) {
                reply.set(ValueLayout.JAVA_BYTE, ACCESS_HEADER + i, (byte) (v >>> (8 * i)));
            }
        }
        reply.set(LE_SHORT, 0, req.get(LE_SHORT, 0));
        reply.set(LE_SHORT, 2, (short) command);
        reply.set(LE_INT, 4, replySize);
        reply.set(LE_INT, 8, Header.TYPE_REPLY);
        reply.set(LE_INT, 12, 0);
        reply.set(LE_LONG, 16, offset);
        reply.set(LE_INT, 24, index);
        reply.set(LE_INT, 28, count);
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
