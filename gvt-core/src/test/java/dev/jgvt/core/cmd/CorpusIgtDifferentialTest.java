package dev.jgvt.core.cmd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.testing.igt.IntelDumpDecode;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real-stream corpus through the IGT decode differential: every command of every record (rings and batches) of
 * every dump in {@code corpus/} is split by the scanner's table ({@link CommandDecoder}, the decode {@code gvt
 * decode} uses) and by intel-gpu-tools' {@code intel_dump_decode}; wherever IGT knows a command, its length must be
 * the scanner's. A disagreement fails naming the dump, record, offset, header and both lengths, unless IGT's rule
 * for that command is one of the documented Gen9 errors of {@code igt-decode-exceptions.tsv} (shared with
 * {@code IgtDecodeDifferentialTest}). Commands IGT does not know are counted and listed; a command the scanner does
 * not know fails. Nothing here depends on which records the corpus holds.
 *
 * <p>How IGT is kept in step: the commands are laid end to end in chunks of about 64 KiB (a chunk never splits a
 * command) followed by one MI_NOOP, and IGT decodes each chunk in one run. IGT decodes a stream sequentially, so as
 * long as it agreed on every earlier command it starts a line exactly at the next command. When it does not know a
 * command (it then steps one dword), or sizes one differently, that table row is noted and from then on every
 * command of that row is replaced by MI_NOOPs of the same length, which keeps every offset and keeps IGT in step,
 * and the chunk is decoded again; only a chunk's last, clean pass is counted. Within a pass, later commands IGT
 * calls unknown are noted too (that depends on the header alone), so one pass can find several.
 */
final class CorpusIgtDifferentialTest {
    private static final CommandTable GEN9 = CommandTable.gen9();
    private static final int CHUNK_BYTES = 64 << 10;
    private static final String CORPUS_DIR = "corpus";

    @TempDir
    Path dir;

    /** One command as the scanner's decode splits it. */
    private record Cmd(String where, long offset, int header, int dwords, CommandDef def, byte[] bytes, int from) {}

    /** Why a table row's commands are no longer shown to IGT. */
    private enum Masked { UNKNOWN_TO_IGT, VIDEO_OPCODE_SPACE, DOCUMENTED_IGT_ERROR, DISAGREEMENT }

    private final Map<CommandDef, Masked> masked = new HashMap<>();
    private final Map<String, Integer> unknownToIgt = new TreeMap<>();
    private final Map<String, Integer> documented = new TreeMap<>();
    private final Map<String, Integer> disagreeing = new TreeMap<>();
    private final List<String> failures = new ArrayList<>();
    private final Map<String, String> exceptions = IntelDumpDecode.exceptions();
    private int agreed;
    private int runs;

    /** Every scan dump in the corpus directory, by name (the one known file when the directory cannot be listed). */
    static List<String> dumps() throws IOException {
        URL url = CorpusIgtDifferentialTest.class.getResource(CORPUS_DIR);
        if (url != null && url.getProtocol().equals("file")) {
            try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
                return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".scan.gz")).sorted().toList();
            } catch (URISyntaxException e) {
                throw new IOException(e);
            }
        }
        return List.of(GuestStreamCorpusTest.CORPUS.substring(CORPUS_DIR.length() + 1));
    }

    @Test
    void everyCorpusCommandIgtKnowsHasTheScannersLength() throws Exception {
        if (!IntelDumpDecode.available()) {
            System.out.println("CorpusIgtDifferentialTest skipped: " + IntelDumpDecode.TOOL
                    + " is not installed (Debian: intel-gpu-tools)");
        }
        assumeTrue(IntelDumpDecode.available(),
                IntelDumpDecode.TOOL + " is not installed (Debian package intel-gpu-tools)");
        List<Cmd> commands = new ArrayList<>();
        int records = 0;
        for (String dump : dumps()) {
            List<ScanDumpRecord> dumped;
            try (InputStream in = CorpusIgtDifferentialTest.class.getResourceAsStream(CORPUS_DIR + "/" + dump)) {
                assertThat(in).as(dump).isNotNull();
                dumped = ScanDumpFile.read(in);
            }
            for (int i = 0; i < dumped.size(); i++) {
                split(dump, i + 1, dumped.get(i), commands);
                records++;
            }
        }
        long start = System.nanoTime();
        for (List<Cmd> chunk : chunks(commands)) {
            compareChunk(chunk);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int unknown = unknownToIgt.values().stream().mapToInt(Integer::intValue).sum();
        int documentedCount = documented.values().stream().mapToInt(Integer::intValue).sum();
        int disagreeCount = disagreeing.values().stream().mapToInt(Integer::intValue).sum();
        int compared = agreed + documentedCount + disagreeCount;
        System.out.printf(Locale.ROOT, "corpus IGT differential: %d dumps, %d records, %d commands: %d compared with "
                + "IGT, %d agreed, %d documented IGT errors %s, %d unknown to IGT %s, %d disagreements %s; %d IGT runs "
                + "in %.2f s%n", dumps().size(), records, commands.size(), compared, agreed, documentedCount,
                documented,
                unknown, unknownToIgt, disagreeCount, disagreeing,
                runs, seconds);
        assertThat(failures).as("corpus commands whose length IGT disagrees with (or that the scanner cannot decode)")
                .isEmpty();
        assertThat(agreed).as("IGT must agree on most of the corpus for this test to mean anything")
                .isGreaterThan(commands.size() / 2);
    }

    /** Splits one record with the scanner's table; a command the table does not know, or a torn one, fails. */
    private void split(String dump, int index, ScanDumpRecord r, List<Cmd> out) {
        String where = String.format(Locale.ROOT, "%s record %d (workload %d, %s %s%s at 0x%x)", dump, index,
                r.workload(), r.engine(), ScanDumpRecord.levelName(r.level()), r.ppgtt() ? " ppgtt" : "", r.gma());
        byte[] bytes = r.bytes();
        List<Cmd> found = new ArrayList<>();
        CommandDecoder.Result result = CommandDecoder.decode(GEN9, r.engine(), MemorySegment.ofArray(bytes),
                (offset, def, header, len) -> found.add(new Cmd(where, offset, header, len, def, bytes, (int) offset)));
        switch (result.status()) {
            case COMPLETE -> out.addAll(found);
            case UNKNOWN -> {
                out.addAll(found);
                failures.add(String.format(Locale.ROOT, "%s: offset 0x%x header 0x%08x is not a %s command of the "
                        + "scanner's table", where, result.offset(), result.header(), r.engine()));
            }
            case TRUNCATED, PARTIAL_DWORD -> {
                out.addAll(found.subList(0, Math.max(0, found.size() - (result.status() == CommandDecoder.Status
                        .TRUNCATED ? 1 : 0))));
                if (r.verdict().equals(ScanDumpRecord.ACCEPTED)) {
                    failures.add(String.format(Locale.ROOT, "%s: ends inside a command at 0x%x (%s) in an accepted "
                            + "workload", where, result.offset(), result.status()));
                }
            }
        }
    }

    private static List<List<Cmd>> chunks(List<Cmd> commands) {
        List<List<Cmd>> chunks = new ArrayList<>();
        List<Cmd> current = new ArrayList<>();
        long bytes = 0;
        for (Cmd c : commands) {
            if (!current.isEmpty() && bytes + 4L * c.dwords() > CHUNK_BYTES) {
                chunks.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(c);
            bytes += 4L * c.dwords();
        }
        if (!current.isEmpty()) {
            chunks.add(current);
        }
        return chunks;
    }

    /** Decodes one chunk with IGT until a pass finds nothing new to mask, then counts that pass. */
    private void compareChunk(List<Cmd> chunk) throws IOException, InterruptedException {
        while (true) {
            long size = 4;
            for (Cmd c : chunk) {
                size += 4L * c.dwords();
            }
            ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
            List<Long> offsets = new ArrayList<>(chunk.size());
            for (Cmd c : chunk) {
                offsets.add((long) buffer.position());
                if (maskedFor(c) != null) {
                    buffer.position(buffer.position() + 4 * c.dwords()); // MI_NOOPs
                } else {
                    buffer.put(c.bytes(), c.from(), 4 * c.dwords());
                }
            }
            buffer.putInt(0); // a final MI_NOOP: IGT's end of the last command is the line it starts
            Path file = dir.resolve("chunk.bin");
            Files.write(file, buffer.array());
            List<IntelDumpDecode.Command> igt = IntelDumpDecode.decode(file);
            runs++;
            if (pass(chunk, offsets, igt, size)) {
                return;
            }
        }
    }

    private Masked maskedFor(Cmd c) {
        Masked m = masked.get(c.def());
        if (m == null && (c.def().type() == CommandType.VIDEO || c.def().type() == CommandType.VEBOX)) {
            m = Masked.VIDEO_OPCODE_SPACE; // IGT has no engine input and reads type-3 pipeline 2 as render media
            masked.put(c.def(), m);
        }
        return m;
    }

    /** One pass over IGT's view of a chunk; false when a row was newly masked and the chunk must be decoded again. */
    private boolean pass(List<Cmd> chunk, List<Long> offsets, List<IntelDumpDecode.Command> igt, long size) {
        Map<Long, Integer> lineAt = new HashMap<>(igt.size() * 2);
        for (int i = 0; i < igt.size(); i++) {
            lineAt.putIfAbsent(igt.get(i).offset(), i);
        }
        int passAgreed = 0;
        boolean dirty = false;
        Map<String, Integer> passUnknown = new HashMap<>();
        Map<String, Integer> passDocumented = new HashMap<>();
        Map<String, Integer> passDisagreeing = new HashMap<>();
        for (int k = 0; k < chunk.size(); k++) {
            Cmd c = chunk.get(k);
            long at = offsets.get(k);
            Masked m = maskedFor(c);
            if (m != null) {
                Map<String, Integer> bucket = switch (m) {
                    case UNKNOWN_TO_IGT, VIDEO_OPCODE_SPACE -> passUnknown;
                    case DOCUMENTED_IGT_ERROR -> passDocumented;
                    case DISAGREEMENT -> passDisagreeing;
                };
                bucket.merge(c.def().name(), 1, Integer::sum);
                continue;
            }
            Integer line = lineAt.get(at);
            boolean starts = line != null && igt.get(line).header() == c.header();
            if (!starts) {
                if (dirty) {
                    continue; // out of step after a command masked in this pass: judged in the next one
                }
                // IGT agreed on everything before, so it must start a line here: the harness lost step
                throw new AssertionError(String.format(Locale.ROOT, "%s: IGT has no command at 0x%x (header 0x%08x); "
                        + "IGT lost step", c.where(), c.offset(), c.header()));
            }
            IntelDumpDecode.Command theirs = igt.get(line);
            if (theirs.unknown()) {
                // whether IGT knows a command depends on its header alone, so this holds even out of step
                masked.put(c.def(), Masked.UNKNOWN_TO_IGT);
                dirty = true;
                continue;
            }
            if (dirty) {
                continue; // a length is only judged while IGT has agreed on everything before it
            }
            long next = line + 1 < igt.size() ? igt.get(line + 1).offset() : size;
            long igtDwords = (next - at) / 4;
            if (igtDwords == c.dwords()) {
                passAgreed++;
                continue;
            }
            if (exceptions.containsKey(c.def().name())) {
                masked.put(c.def(), Masked.DOCUMENTED_IGT_ERROR);
            } else {
                masked.put(c.def(), Masked.DISAGREEMENT);
                failures.add(String.format(Locale.ROOT, "%s: offset 0x%x header 0x%08x %s: the scanner %d dwords, "
                        + "IGT (%s) %s", c.where(), c.offset(), c.header(), c.def().name(), c.dwords(), theirs.name(),
                        next >= size ? "past the end of the stream" : igtDwords + " dwords"));
            }
            dirty = true;
        }
        if (dirty) {
            return false;
        }
        agreed += passAgreed;
        passUnknown.forEach((n, v) -> unknownToIgt.merge(n, v, Integer::sum));
        passDocumented.forEach((n, v) -> documented.merge(n, v, Integer::sum));
        passDisagreeing.forEach((n, v) -> disagreeing.merge(n, v, Integer::sum));
        return true;
    }
}
