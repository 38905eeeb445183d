package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cross-checks {@code gvt decode} against intel-gpu-tools' {@code intel_dump_decode} (Debian package
 * intel-gpu-tools; {@code -d 0x1912} = a Skylake GT2 device id, {@code -b} = binary input of little-endian
 * dwords) on generated MI and blitter streams: both must find the same command boundaries and names.
 *
 * <p>The streams use the commands both decoders know, at lengths the intel decoder's (older) length table
 * accepts: it knows only part of the MI set and checks some MI lengths against pre-Gen8 ranges (MI_FLUSH_DW 3-4,
 * MI_STORE_DATA_IMM 3-4, MI_LOAD_REGISTER_IMM 3), and it misspells XY_TEXT_BLT as "Y_TEXT_BLT", which is
 * therefore left out. Its header lines look like {@code 0x00000004:      0x11000001: MI_LOAD_REGISTER_IMM}
 * (continuation lines have a blank before the text), and it keeps decoding after MI_BATCH_BUFFER_END.
 */
final class DecodeCrossCheckTest {
    private static final Path TOOL = Path.of("/usr/bin/intel_dump_decode");
    private static final Pattern LINE = Pattern.compile("^0x([0-9a-f]{8}):\\s+(?:HEAD\\s+)?0x[0-9a-f]{8}: (\\S[^ ,]*)");

    /**
     * MI commands and the lengths both decoders agree on, all legal on BCS (MI_FLUSH_DW is not a render command,
     * MI_LOAD_SCAN_LINES_INCL is render-only; {@link IgtDecodeDifferentialTest} covers every row one by one).
     */
    private static final Object[][] MI = {
        {0x00, 1}, {0x02, 1}, {0x03, 1}, {0x04, 1}, {0x07, 1}, {0x08, 1}, {0x0A, 1}, {0x0B, 1}, {0x16, 3}, {0x20, 4}, {0x21, 3}, {0x21, 4}, {0x22, 3}, {0x26, 4}, {0x28, 3}};
    private static final int[] BLT = {0x01, 0x03, 0x11, 0x24, 0x25, 0x31, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56,
        0x57, 0x58, 0x59, 0x71, 0x72, 0x75, 0x76, 0x77};

    @TempDir
    static Path dir;

    @BeforeAll
    static void toolPresent() {
        if (!Files.isExecutable(TOOL)) {
            System.out.println("DecodeCrossCheckTest skipped: " + TOOL + " is not installed (Debian: intel-gpu-tools)");
        }
        assumeTrue(Files.isExecutable(TOOL), TOOL + " is not installed (Debian package intel-gpu-tools)");
    }

    static LongStream seeds() {
        long base = Long.getLong("gvt.seed", 0xDEC0DE);
        return LongStream.range(0, 6).map(i -> base + i);
    }

    private record Command(long offset, String name) {}

    @ParameterizedTest(name = "MI stream, seed {0}")
    @MethodSource("seeds")
    void miStreamsDecodeTheSame(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        List<Integer> dws = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            Object[] pick = MI[random.nextInt(MI.length)];
            addMi(dws, (int) pick[0], (int) pick[1], random);
        }
        compare("bcs", dws, seed); // MI_FLUSH_DW is not a render command
    }

    @ParameterizedTest(name = "blitter stream, seed {0}")
    @MethodSource("seeds")
    void blitterStreamsDecodeTheSame(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        List<Integer> dws = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            if (random.nextInt(4) == 0) {
                Object[] pick = MI[random.nextInt(MI.length)];
                addMi(dws, (int) pick[0], (int) pick[1], random);
                continue;
            }
            int op = BLT[random.nextInt(BLT.length)];
            int len = 3 + random.nextInt(random.nextInt(8) == 0 ? 250 : 12);
            dws.add((2 << 29) | (op << 22) | (random.nextInt() & 0x003FFF00) | (len - 2));
            for (int k = 1; k < len; k++) {
                dws.add(random.nextInt());
            }
        }
        compare("bcs", dws, seed);
    }

    private static void addMi(List<Integer> dws, int opcode, int len, SplittableRandom random) {
        dws.add(len == 1 ? opcode << 23 : (opcode << 23) | (len - 2));
        for (int k = 1; k < len; k++) {
            dws.add(random.nextInt() & 0x7FFFFFFC);
        }
    }

    private static void compare(String engine, List<Integer> dws, long seed) throws Exception {
        Path file = DecodeCommandTest.write(dir, engine + "-" + seed + ".bin",
                dws.stream().mapToInt(Integer::intValue).toArray());
        CliRun run = CliRun.of("decode", "--engine", engine, file.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<Command> ours = new ArrayList<>();
        for (String line : run.out().split("\n")) {
            String[] f = line.split(" ");
            ours.add(new Command(Long.decode(f[0]), f[1]));
        }
        List<Command> theirs = intelDecode(file);
        assertThat(theirs).as("seed %d: intel_dump_decode found no commands", seed).isNotEmpty();
        assertThat(ours).as("seed %d on %s", seed, engine).isEqualTo(theirs);
    }

    private static List<Command> intelDecode(Path file) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(TOOL.toString(), "-d", "0x1912", "-b", file.toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        List<Command> commands = new ArrayList<>();
        for (String line : output.split("\n")) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                commands.add(new Command(Long.parseLong(m.group(1), 16), m.group(2)));
            }
        }
        return commands;
    }
}
