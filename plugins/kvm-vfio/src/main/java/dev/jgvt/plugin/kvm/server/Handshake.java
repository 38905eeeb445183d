package dev.jgvt.plugin.kvm.server;

import dev.jgvt.plugin.kvm.vfiouser.Capabilities;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.PageTracking;
import dev.jgvt.plugin.kvm.vfiouser.Payload.Version;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * VERSION negotiation: the first message must be VERSION, without fds, major 0; the reply offers minor
 * {@code min(client's, 2)} and this server's capabilities, plus the page-tracking extension if the client
 * offered it.
 */
final class Handshake {
    /** The protocol version this server speaks. */
    static final int MAJOR = 0;
    static final int MINOR = 2;
    /** fds accepted per message. */
    static final int MAX_MSG_FDS = 8;

    /** What was agreed: the client's capabilities and the tracking extension, if negotiated; and the reply. */
    record Agreed(Capabilities peer, Optional<PageTracking.Offer> tracking, Version reply) {}

    private Handshake() {}

    /** @throws GvtException for any violation (the connection then ends, after an EINVAL reply to a command) */
    static Agreed negotiate(RawMessage m, VfioUserCodec codec) {
        Header h = m.header();
        if (h.command() != Command.VERSION.number()) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR, "the first message must be VERSION, not command " + h.command());
        }
        if (m.fds().length != 0) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR, "VERSION carries no fds");
        }
        Version v = (Version) codec.decodePayload(h, m.payload());
        if (v.major() != MAJOR) {
            throw new GvtException(ErrorCode.INCOMPATIBLE_VERSION, "VERSION " + v.major() + "." + v.minor()
                    + ": this server speaks major " + MAJOR);
        }
        Capabilities caps = v.capabilities();
        Optional<PageTracking.Offer> agreed = PageTracking.offer(caps).map(o -> new PageTracking.Offer(
                Math.min(o.version(), PageTracking.VERSION), Math.min(o.maxFrames(), PageTracking.MAX_FRAMES)));
        Map<String, Object> extra = new LinkedHashMap<>();
        agreed.ifPresent(a -> extra.put(PageTracking.CAPABILITY, a.toJson()));
        Capabilities ours = new Capabilities(MAX_MSG_FDS, RegionIo.MAX_DATA_XFER, Capabilities.DEFAULT_MAX_DMA_MAPS,
                Capabilities.DEFAULT_PGSIZES, Optional.empty(), Optional.empty(), true, extra);
        return new Agreed(caps, agreed, new Version(MAJOR, Math.min(v.minor(), MINOR), Optional.of(ours.toJson())));
    }
}
