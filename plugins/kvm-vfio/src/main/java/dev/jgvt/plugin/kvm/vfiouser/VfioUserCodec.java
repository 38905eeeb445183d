package dev.jgvt.plugin.kvm.vfiouser;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes and decodes vfio-user messages (both directions, commands and replies). Decoding is strict:
 * short headers, sizes that disagree with the bytes present, messages over {@link #maxMessageSize()},
 * unknown commands, and payload fields that lie about lengths or counts are
 * {@link ErrorCode#PROTOCOL_ERROR}s whose message names the field. Error replies carry no payload.
 *
 * <p>Threading: immutable, safe from any thread.
 */
public final class VfioUserCodec {
    /** libvfio-user's limit: 1 MiB of data plus the largest fixed parts. */
    public static final long DEFAULT_MAX_MESSAGE_SIZE = (1L << 20) + 16 + 16;

    private final long maxMessageSize;

    public VfioUserCodec() {
        this(DEFAULT_MAX_MESSAGE_SIZE);
    }

    public VfioUserCodec(long maxMessageSize) {
        if (maxMessageSize < Header.SIZE || maxMessageSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxMessageSize " + maxMessageSize);
        }
        this.maxMessageSize = maxMessageSize;
    }

    public long maxMessageSize() {
        return maxMessageSize;
    }

    /** Decodes and checks a header (the first 16 bytes of {@code bytes}) including the size limit. */
    public Header decodeHeader(byte[] bytes, int offset, int length) {
        Header h = Header.decode(bytes, offset, length);
        if (h.size() > maxMessageSize) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR,
                    "header.size " + h.size() + " exceeds the limit of " + maxMessageSize + " bytes");
        }
        return h;
    }

    /** Decodes one whole message; {@code bytes.length} must equal the header's size. */
    public Message decode(byte[] bytes) {
        Header h = decodeHeader(bytes, 0, bytes.length);
        if (bytes.length < h.size()) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR,
                    "truncated message: header.size " + h.size() + " but only " + bytes.length + " bytes");
        }
        if (bytes.length > h.size()) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR,
                    (bytes.length - h.size()) + " bytes beyond header.size " + h.size());
        }
        byte[] payload = new byte[(int) h.payloadSize()];
        System.arraycopy(bytes, Header.SIZE, payload, 0, payload.length);
        return new Message(h, decodePayload(h, payload));
    }

    /** Decodes the payload that followed {@code header}; its length must be the header's payload size. */
    public Payload decodePayload(Header header, byte[] payload) {
        if (payload.length != header.payloadSize()) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR,
                    "payload of " + payload.length + " bytes but header.size says " + header.payloadSize());
        }
        Command command = Command.byNumber(header.command()).orElseThrow(() -> new GvtException(ErrorCode.PROTOCOL_ERROR,
                "header.command " + header.command() + " is not a vfio-user command"));
        String what = command + (header.isReply() ? " reply" : " request") + " id " + header.id();
        if (header.isError()) {
            if (!header.isReply()) {
                throw new GvtException(ErrorCode.PROTOCOL_ERROR, what + ": the ERROR flag is only valid in a reply");
            }
            if (payload.length != 0) {
                throw new GvtException(ErrorCode.PROTOCOL_ERROR,
                        what + ": an error reply carries no payload, got " + payload.length + " bytes");
            }
            return Payload.Empty.INSTANCE;
        }
        Wire wire = new Wire(payload, what);
        Command.Decoder decoder = header.isReply() ? command.replyDecoder() : command.requestDecoder();
        return decoder.decode(wire);
    }

    /** The wire bytes of {@code message}: header, payload, and zero padding up to the header's size. */
    public static byte[] encode(Message message) {
        Header h = message.header();
        byte[] out = new byte[Math.toIntExact(h.size())];
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        h.encode(b);
        message.payload().write(b);
        return out;
    }
}
