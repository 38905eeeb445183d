package dev.jgvt.plugin.kvm.vfiouser;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The libvfio-user wire transcript (test resource {@value #FILE}, a copy of the shared reference) parsed into
 * messages. The transcript shows header fields as text and at most 96 payload bytes; a longer payload is
 * marked {@code ...} and {@link Entry#truncated()} is set.
 */
final class Transcript {
    static final String FILE = "vfio-user-libvfio-trace.txt";
    /** The server's VERSION reply JSON as given in vfio-and-vfio-user.md §4.3 (the transcript shows 96 bytes of it). */
    static final String SERVER_VERSION_JSON =
            "{ \"capabilities\": { \"max_msg_fds\": 8, \"max_data_xfer_size\": 1048576, \"migration\": { \"pgsize\": 4096 } } }";

    private static final Pattern HEAD = Pattern.compile(
            "^(\\d{5}) (C->S|S->C) (cmd|reply)\\s+id=0x([0-9a-f]{4}) cmd=(\\d+)\\((\\w+)\\) size=(\\d+) flags=0x([0-9a-f]+)"
                    + " err=(\\d+) fds=(\\d+)$");
    private static final Pattern PAYLOAD = Pattern.compile("^\\s+payload\\[(\\d+)\\]: ([0-9a-f]*)(\\.\\.\\.)?$");

    record Entry(int seq, String direction, boolean reply, int id, int command, String commandName, int size, int flags,
            int error, int fds, int payloadLength, byte[] shownPayload) {
        boolean truncated() {
            return shownPayload.length < payloadLength;
        }

        String label() {
            return String.format("%05d %s %s %s", seq, direction, reply ? "reply" : "cmd", commandName);
        }

        /** Header plus payload; bytes the transcript does not show are filled (see {@link #fill}). */
        byte[] bytes() {
            byte[] out = new byte[size];
            ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) id).putShort((short) command).putInt(size).putInt(flags).putInt(error);
            b.put(fill());
            return out;
        }

        /** The payload, with an unshown tail completed: the documented JSON for the VERSION reply, zeros elsewhere. */
        byte[] fill() {
            byte[] payload = new byte[payloadLength];
            System.arraycopy(shownPayload, 0, payload, 0, shownPayload.length);
            if (truncated() && command == 1) {
                byte[] json = SERVER_VERSION_JSON.getBytes(StandardCharsets.UTF_8);
                System.arraycopy(json, 0, payload, 4, Math.min(json.length, payloadLength - 4));
            }
            return payload;
        }
    }

    private Transcript() {}

    /**
     * The transcript, a copy of {@code shared/reference/vfio-user-libvfio-trace.txt} kept in this module's test
     * resources (with its provenance lines) so that the golden tests always run.
     */
    static List<Entry> load() throws IOException {
        try (InputStream in = Transcript.class.getResourceAsStream(FILE)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + FILE + " is missing beside " + Transcript.class.getName());
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
        }
    }

    static List<Entry> parse(List<String> lines) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher h = HEAD.matcher(line);
            if (!h.matches()) {
                throw new IllegalStateException("line " + (i + 1) + " is neither a message nor a payload: " + line);
            }
            int size = Integer.parseInt(h.group(7));
            int payloadLength = 0;
            byte[] shown = new byte[0];
            if (i + 1 < lines.size()) {
                Matcher p = PAYLOAD.matcher(lines.get(i + 1));
                if (p.matches()) {
                    payloadLength = Integer.parseInt(p.group(1));
                    shown = HexFormat.of().parseHex(p.group(2));
                    boolean dots = p.group(3) != null;
                    if (dots != (shown.length < payloadLength) || shown.length > payloadLength) {
                        throw new IllegalStateException("line " + (i + 2) + ": shown " + shown.length + " of "
                                + payloadLength + " bytes, truncation mark " + dots);
                    }
                    i++;
                }
            }
            if (payloadLength != size - 16) {
                throw new IllegalStateException("line " + (i + 1) + ": size " + size + " but payload " + payloadLength);
            }
            out.add(new Entry(Integer.parseInt(h.group(1)), h.group(2), h.group(3).equals("reply"),
                    Integer.parseInt(h.group(4), 16), Integer.parseInt(h.group(5)), h.group(6), size,
                    Integer.parseInt(h.group(8), 16), Integer.parseInt(h.group(9)), Integer.parseInt(h.group(10)),
                    payloadLength, shown));
        }
        return out;
    }
}
