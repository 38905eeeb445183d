package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads a scan dump ({@link ScanDump}; the format is in docs/command-scanner.md), plain or gzip-compressed. Every
 * malformed part fails with an {@link IOException} naming the record and what was wrong.
 */
public final class ScanDumpFile {
    private static final int MAX_HEADER = 4096;
    private static final int MAX_BYTES = 64 << 20;

    private ScanDumpFile() {}

    /** Every record of the dump in {@code in}, in file order. */
    public static List<ScanDumpRecord> read(InputStream in) throws IOException {
        BufferedInputStream stream = new BufferedInputStream(in, 1 << 16);
        stream.mark(2);
        int b0 = stream.read();
        int b1 = stream.read();
        stream.reset();
        InputStream source = b0 == 0x1f && b1 == 0x8b ? new BufferedInputStream(new GZIPInputStream(stream), 1 << 16)
                : stream;
        String magic = line(source, 0);
        if (!ScanDump.MAGIC.equals(magic)) {
            throw new IOException("not a scan dump: the first line is '" + magic + "', not '" + ScanDump.MAGIC + "'");
        }
        List<ScanDumpRecord> records = new ArrayList<>();
        while (true) {
            String header = line(source, records.size() + 1);
            if (header == null) {
                return records;
            }
            records.add(parse(header, source, records.size() + 1));
        }
    }

    /** The records grouped by workload, in file order (each group starts with its ring record). */
    public static List<List<ScanDumpRecord>> workloads(List<ScanDumpRecord> records) throws IOException {
        List<List<ScanDumpRecord>> result = new ArrayList<>();
        for (ScanDumpRecord r : records) {
            List<ScanDumpRecord> last = result.isEmpty() ? null : result.getLast();
            if (r.level() == BufferKind.RING) {
                result.add(new ArrayList<>(List.of(r)));
            } else if (last != null && last.getFirst().workload() == r.workload()) {
                last.add(r);
            } else {
                throw new IOException("workload " + r.workload() + ": a batch record without its ring record before it");
            }
        }
        return result;
    }

    private static ScanDumpRecord parse(String header, InputStream in, int index) throws IOException {
        Map<String, String> fields = new HashMap<>();
        for (String part : header.split(" ")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IOException("record " + index + ": '" + part + "' is not key=value");
            }
            fields.put(part.substring(0, eq), part.substring(eq + 1));
        }
        try {
            BufferKind level = ScanDumpRecord.level(field(fields, "level"));
            String space = field(fields, "space");
            if (!space.equals("ggtt") && !space.equals("ppgtt")) {
                throw new IllegalArgumentException("space must be ggtt or ppgtt, not '" + space + "'");
            }
            long length = Long.parseLong(field(fields, "bytes"));
            if (length < 0 || length > MAX_BYTES) {
                throw new IllegalArgumentException("bytes=" + length + " is outside [0, " + MAX_BYTES + "]");
            }
            ScanObserver.RingSlice ring = null;
            VgpuPartition partition = null;
            long hwsp = 0;
            if (level == BufferKind.RING) {
                long[] r = pair(field(fields, "ring"));
                ring = new ScanObserver.RingSlice(r[0], r[1], hex(field(fields, "head")), hex(field(fields, "tail")));
                long[] a = pair(field(fields, "aperture"));
                long[] h = pair(field(fields, "hidden"));
                partition = new VgpuPartition(new GmRange(a[0], a[1]), new GmRange(h[0], h[1]), 0, 0);
                hwsp = hex(field(fields, "hwsp"));
            }
            byte[] data = in.readNBytes((int) length);
            if (data.length != length) {
                throw new IOException("record " + index + ": " + length + " bytes announced, " + data.length
                        + " before the end of the file");
            }
            return new ScanDumpRecord(Integer.parseInt(field(fields, "workload")), Integer.parseInt(field(fields, "vgpu")),
                    Engine.valueOf(field(fields, "engine")), level, space.equals("ppgtt"),
                    field(fields, "privileged").equals("yes"), hex(field(fields, "gma")), field(fields, "verdict"),
                    ring, partition, hwsp, data);
        } catch (IllegalArgumentException e) {
            throw new IOException("record " + index + " ('" + header + "'): " + e.getMessage(), e);
        }
    }

    private static String field(Map<String, String> fields, String key) {
        String value = fields.get(key);
        if (value == null) {
            throw new IllegalArgumentException("no " + key + "=");
        }
        return value;
    }

    private static long hex(String text) {
        if (!text.startsWith("0x")) {
            throw new IllegalArgumentException("'" + text + "' is not 0x<hex>");
        }
        return Long.parseUnsignedLong(text.substring(2), 16);
    }

    private static long[] pair(String text) {
        int plus = text.indexOf('+');
        if (plus < 0) {
            throw new IllegalArgumentException("'" + text + "' is not 0x<base>+0x<size>");
        }
        return new long[] {hex(text.substring(0, plus)), hex(text.substring(plus + 1))};
    }

    /** One '\n'-terminated ASCII line, or null at the end of the input before any byte. */
    private static String line(InputStream in, int index) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (bytes.size() == 0) {
                    return null;
                }
                throw new IOException("record " + index + ": the header line has no end");
            }
            if (b == '\n') {
                return bytes.toString(StandardCharsets.US_ASCII);
            }
            if (bytes.size() >= MAX_HEADER) {
                throw new IOException("record " + index + ": header line longer than " + MAX_HEADER + " bytes");
            }
            bytes.write(b);
        }
    }
}
