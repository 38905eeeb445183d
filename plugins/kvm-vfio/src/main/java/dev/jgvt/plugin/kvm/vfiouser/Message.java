package dev.jgvt.plugin.kvm.vfiouser;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;

/**
 * One vfio-user message. {@code header.size()} is authoritative: it may exceed {@code 16 + payload.length()}
 * when the sender padded the payload with zeros (libvfio-user sends region-info requests in an
 * {@code argsz}-sized buffer); encoding writes that padding back.
 */
public record Message(Header header, Payload payload) {
    public Message {
        requireNonNull(header, "header is null");
        requireNonNull(payload, "payload is null");
        if (header.payloadSize() < payload.length()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "header.size " + header.size() + " cannot hold a "
                    + payload.length() + "-byte payload");
        }
    }

    /** A command with id {@code id}. */
    public static Message command(int id, Command command, Payload payload) {
        return new Message(new Header(id, command.number(), Header.SIZE + payload.length(), Header.TYPE_COMMAND, 0), payload);
    }

    /** The reply to {@code request}. */
    public static Message reply(Header request, Payload payload) {
        return new Message(new Header(request.id(), request.command(), Header.SIZE + payload.length(), Header.TYPE_REPLY, 0),
                payload);
    }

    /** The error reply to {@code request}: the header alone, flags reply|ERROR, {@code error = errno}. */
    public static Message errorReply(Header request, int errno) {
        return new Message(new Header(request.id(), request.command(), Header.SIZE, Header.TYPE_REPLY | Header.FLAG_ERROR,
                errno), Payload.Empty.INSTANCE);
    }
}
