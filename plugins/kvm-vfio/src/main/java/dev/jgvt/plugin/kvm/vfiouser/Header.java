package dev.jgvt.plugin.kvm.vfiouser;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 16-byte vfio-user header: {@code u16 id, u16 command, u32 size (including the header), u32 flags,
 * u32 error}, little-endian. Flags: bits 0–3 the type (0 command, 1 reply), {@link #FLAG_NO_REPLY},
 * {@link #FLAG_ERROR}; other bits are rejected.
 *
 * @param id the sender's message id (0..65535), echoed in the reply
 * @param command the command number (0..65535; not validated here)
 * @param size the whole message's size in bytes (16..2^32-1)
 * @param flags type and flag bits
 * @param error the errno of an error reply (unsigned 32-bit)
 */
public record Header(int id, int command, long size, int flags, int error) {
    public static final int SIZE = 16;
    public static final int TYPE_MASK = 0xF;
    public static final int TYPE_COMMAND = 0;
    public static final int TYPE_REPLY = 1;
    public static final int FLAG_NO_REPLY = 0x10;
    public static final int FLAG_ERROR = 0x20;
    private static final int KNOWN_FLAGS = TYPE_MASK | FLAG_NO_REPLY | FLAG_ERROR;

    public Header {
        if (id < 0 || id > 0xFFFF) {
            throw bad("header.id " + id + " outside 0..65535");
        }
        if (command < 0 || command > 0xFFFF) {
            throw bad("header.command " + command + " outside 0..65535");
        }
        if (size < SIZE || size > 0xFFFF_FFFFL) {
            throw bad("header.size " + size + " outside " + SIZE + "..4294967295");
        }
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw bad("header.flags 0x" + Integer.toHexString(flags) + " has unknown bits 0x"
                    + Integer.toHexString(flags & ~KNOWN_FLAGS));
        }
        int type = flags & TYPE_MASK;
        if (type != TYPE_COMMAND && type != TYPE_REPLY) {
            throw bad("header.flags type " + type + " is neither command (0) nor reply (1)");
        }
    }

    private static GvtException bad(String what) {
        return new GvtException(ErrorCode.PROTOCOL_ERROR, what);
    }

    public boolean isReply() {
        return (flags & TYPE_MASK) == TYPE_REPLY;
    }

    public boolean isError() {
        return (flags & FLAG_ERROR) != 0;
    }

    public boolean noReply() {
        return (flags & FLAG_NO_REPLY) != 0;
    }

    /** Payload bytes after the header. */
    public long payloadSize() {
        return size - SIZE;
    }

    /** Decodes the first 16 bytes of {@code bytes}; fewer is a PROTOCOL_ERROR. */
    public static Header decode(byte[] bytes, int offset, int length) {
        if (length < SIZE) {
            throw bad("header: " + length + " bytes, need " + SIZE);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, offset, SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int id = Short.toUnsignedInt(b.getShort());
        int command = Short.toUnsignedInt(b.getShort());
        long size = Integer.toUnsignedLong(b.getInt());
        int flags = b.getInt();
        int error = b.getInt();
        if (size < SIZE) {
            throw bad("header.size " + size + " is smaller than the " + SIZE + "-byte header");
        }
        return new Header(id, command, size, flags, error);
    }

    /** Writes the 16 bytes at the buffer's position (which must be little-endian). */
    public void encode(ByteBuffer out) {
        out.putShort((short) id).putShort((short) command).putInt((int) size).putInt(flags).putInt(error);
    }
}
