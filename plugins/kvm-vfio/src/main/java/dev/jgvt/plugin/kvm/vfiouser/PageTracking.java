package dev.jgvt.plugin.kvm.vfiouser;

import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackedWrite;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code x-jgvt-page-tracking} vendor extension (docs/vfio-user-tracking-extension.md): its VERSION
 * capability member, its two command numbers outside the standard range, and strict decoders of its
 * payloads (a violation is a {@link dev.jgvt.spi.ErrorCode#PROTOCOL_ERROR} naming the field).
 */
public final class PageTracking {
    /** The capability member's name. */
    public static final String CAPABILITY = "x-jgvt-page-tracking";
    /** The extension version this code implements. */
    public static final int VERSION = 1;
    /** {@code TRACK_SET}, server to client. */
    public static final int TRACK_SET = 0xF001;
    /** {@code TRACKED_WRITE}, client to server. */
    public static final int TRACKED_WRITE = 0xF002;
    /** The largest {@code count} of one TRACK_SET either side of this implementation handles. */
    public static final int MAX_FRAMES = 512;
    /** The largest write one TRACKED_WRITE reports: one frame. */
    public static final int MAX_WRITE = 4096;

    private PageTracking() {}

    /** What a peer announced: extension version and the largest TRACK_SET count. */
    public record Offer(long version, long maxFrames) {
        /** The capability member for this offer. */
        public Map<String, Object> toJson() {
            return Map.of("version", version, "max_frames", maxFrames);
        }
    }

    /** The offer in {@code caps}, if the member is present and well formed (a malformed one counts as absent). */
    public static Optional<Offer> offer(Capabilities caps) {
        Object member = caps.extra().get(CAPABILITY);
        if (!(member instanceof Map<?, ?> m) || !(m.get("version") instanceof Long v) || v < 1) {
            return Optional.empty();
        }
        long max = m.get("max_frames") instanceof Long l && l >= 1 ? l : 1;
        return Optional.of(new Offer(v, max));
    }

    /** Decodes a TRACK_SET request ({@code reply = false}) or reply payload. */
    public static TrackSet decodeTrackSet(byte[] payload, boolean reply, String what) {
        Wire w = new Wire(payload, what);
        int argsz = w.u32("argsz");
        int flags = w.u32("flags");
        int count = w.u32("count");
        int reserved = w.u32("reserved");
        if (flags != TrackSet.FLAG_PROTECT && flags != TrackSet.FLAG_UNPROTECT) {
            throw w.error("flags 0x" + Integer.toHexString(flags) + " must be exactly PROTECT (1) or UNPROTECT (2)");
        }
        if (reserved != 0) {
            throw w.error("reserved is 0x" + Integer.toHexString(reserved) + ", must be 0");
        }
        if (count < 1 || count > MAX_FRAMES) {
            throw w.error("count " + Integer.toUnsignedString(count) + " outside 1.." + MAX_FRAMES);
        }
        if (Integer.toUnsignedLong(argsz) != TrackSet.LENGTH + 8L * count) {
            throw w.error("argsz " + Integer.toUnsignedString(argsz) + " is not 16 + 8 x count " + count);
        }
        long[] gfns = new long[reply ? 0 : count];
        for (int i = 0; i < gfns.length; i++) {
            gfns[i] = w.u64("gfn[" + i + "]");
        }
        w.end("TRACK_SET");
        return new TrackSet(argsz, flags, count, gfns);
    }

    /** Decodes a TRACKED_WRITE request payload. */
    public static TrackedWrite decodeTrackedWrite(byte[] payload, String what) {
        Wire w = new Wire(payload, what);
        long gpa = w.u64("gpa");
        int count = w.u32("count");
        int flags = w.u32("flags");
        if (flags != 0) {
            throw w.error("flags 0x" + Integer.toHexString(flags) + " must be 0");
        }
        if (count < 1 || count > MAX_WRITE) {
            throw w.error("count " + Integer.toUnsignedString(count) + " outside 1.." + MAX_WRITE);
        }
        if (((gpa & 0xFFF) + count) > 4096 || gpa + count - 1 < gpa) {
            throw w.error("the write of " + count + " bytes at gpa 0x" + Long.toHexString(gpa) + " crosses a 4 KiB frame");
        }
        byte[] data = w.bytes(count, "data");
        w.end("TRACKED_WRITE");
        return new TrackedWrite(gpa, flags, data);
    }
}
