package dev.jgvt.testing.igt;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code intel_dump_decode -d 0x1912 -b FILE} (Skylake GT2; binary input of little-endian dwords) and parses
 * the lines that start a command. Such a line looks like {@code 0x00000004:      0x11000001: MI_LOAD_REGISTER_IMM}
 * (the first one has {@code HEAD} in the gap); the lines describing a command's other dwords have a run of blanks
 * after the second colon, and warnings such as {@code Bad count in PIPE_CONTROL} carry no offset. A command IGT
 * does not know is still printed, with {@code UNKNOWN} in its text, and IGT then steps one dword.
 */
public final class IntelDumpDecode {
    /** Where Debian installs the tool. */
    public static final Path TOOL = Path.of("/usr/bin/intel_dump_decode");

    private static final Pattern START = Pattern.compile("^0x([0-9a-f]{8}):\\s+(?:HEAD\\s+)?0x([0-9a-f]{8}): (\\S.*)$");

    private IntelDumpDecode() {}

    /**
     * One command as IGT sees it.
     *
     * @param offset its byte offset in the file
     * @param header its first dword
     * @param text what IGT prints for it (its name, sometimes followed by decoded fields)
     */
    public record Command(long offset, int header, String text) {
        public Command {
            requireNonNull(text, "text is null");
        }

        /** Whether IGT does not know the command. */
        public boolean unknown() {
            return text.contains("UNKNOWN");
        }

        /** IGT's name for the command: its text up to the first blank, colon or comma. */
        public String name() {
            int end = 0;
            while (end < text.length() && " :,".indexOf(text.charAt(end)) < 0) {
                end++;
            }
            return text.substring(0, end);
        }
    }

    /** Whether the tool is installed. */
    public static boolean available() {
        return Files.isExecutable(TOOL);
    }

    /** The commands IGT finds in {@code file}, in file order. */
    public static List<Command> decode(Path file) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(TOOL.toString(), "-d", "0x1912", "-b", file.toString())
                .redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(TOOL + " did not finish within 60 s on " + file);
        }
        List<Command> commands = new ArrayList<>();
        for (String line : output.split("\n")) {
            Matcher m = START.matcher(line);
            if (m.find()) {
                commands.add(new Command(Long.parseLong(m.group(1), 16), Integer.parseUnsignedInt(m.group(2), 16),
                        m.group(3)));
            }
        }
        return commands;
    }

    /**
     * IGT's length rules that are wrong for Gen9 ({@code igt-decode-exceptions.tsv}): table name → "decided-by:
     * reason".
     */
    public static Map<String, String> exceptions() {
        Map<String, String> map = new LinkedHashMap<>();
        try (InputStream in = IntelDumpDecode.class.getResourceAsStream("igt-decode-exceptions.tsv")) {
            if (in == null) {
                throw new IllegalStateException("missing resource igt-decode-exceptions.tsv");
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList()) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] c = line.split("\t");
                if (c.length != 3) {
                    throw new IllegalStateException("igt-decode-exceptions.tsv: expected name, decided-by, reason: "
                            + line);
                }
                map.put(c[0], c[1] + ": " + c[2]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return map;
    }
}
