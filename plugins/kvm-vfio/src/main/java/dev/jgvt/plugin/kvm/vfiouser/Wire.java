package dev.jgvt.plugin.kvm.vfiouser;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Bounds-checked little-endian reading of one payload; every failure names the message and the field. */
final class Wire {
    private final ByteBuffer buf;
    private final String what;

    Wire(byte[] payload, String what) {
        this.buf = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        this.what = what;
    }

    GvtException error(String message) {
        return new GvtException(ErrorCode.PROTOCOL_ERROR, what + ": " + message);
    }

    private void need(int n, String field) {
        if (buf.remaining() < n) {
            throw error(field + " needs " + n + " bytes at payload offset " + buf.position() + " but the payload has "
                    + buf.limit() + " bytes");
        }
    }

    int position() {
        return buf.position();
    }

    int remaining() {
        return buf.remaining();
    }

    int length() {
        return buf.limit();
    }

    void seek(int offset) {
        buf.position(offset);
    }

    int u16(String field) {
        need(2, field);
        return Short.toUnsignedInt(buf.getShort());
    }

    int u32(String field) {
        need(4, field);
        return buf.getInt();
    }

    long u64(String field) {
        need(8, field);
        return buf.getLong();
    }

    byte[] bytes(long n, String field) {
        if (n < 0 || n > buf.remaining()) {
            throw error(field + " of " + Long.toUnsignedString(n) + " bytes but only " + buf.remaining()
                    + " bytes remain at payload offset " + buf.position());
        }
        byte[] out = new byte[(int) n];
        buf.get(out);
        return out;
    }

    byte[] rest() {
        return bytes(buf.remaining(), "data");
    }

    /** Accepts trailing bytes only if they are zero and end within {@code argsz} (a client's reply-sized buffer). */
    void endWithZeroPaddingUpTo(long argsz, String struct) {
        if (buf.remaining() == 0) {
            return;
        }
        int start = buf.position();
        if (Integer.toUnsignedLong(buf.limit()) > argsz) {
            throw error(buf.remaining() + " bytes after the " + struct + " (payload " + buf.limit() + " > argsz "
                    + argsz + ")");
        }
        while (buf.hasRemaining()) {
            if (buf.get() != 0) {
                throw error("non-zero padding byte at payload offset " + (buf.position() - 1) + " after the " + struct
                        + " (ends at " + start + ")");
            }
        }
    }

    void end(String struct) {
        if (buf.remaining() != 0) {
            throw error(buf.remaining() + " unexpected bytes after the " + struct + " at payload offset " + buf.position());
        }
    }
}
