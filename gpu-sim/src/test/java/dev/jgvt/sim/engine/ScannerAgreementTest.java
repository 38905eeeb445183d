package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.cmd.CommandDef;
import dev.jgvt.core.cmd.CommandScanner;
import dev.jgvt.core.cmd.CommandTable;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.cmd.Gen9RegisterPolicy;
import dev.jgvt.core.cmd.Handler;
import dev.jgvt.core.cmd.PdpLoadHook;
import dev.jgvt.core.cmd.RecordedEvents;
import dev.jgvt.core.cmd.ScanOptions;
import dev.jgvt.core.cmd.ScanRejectedException;
import dev.jgvt.core.cmd.SegmentGraphicsMemory;
import dev.jgvt.core.cmd.WorkloadContext;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * End to end: the scanner (with its tables) and the simulated GPU (with its own decoder) walk the same ring; they
 * must count the same commands. With the real tables they do, for every plain command of every engine; a scanner
 * table with one wrong length makes them disagree, so such a row cannot hide behind a test that checks the table
 * against itself.
 */
final class ScannerAgreementTest {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long RING = 0x10_0000;
    private static final int RING_SIZE = 64 * 1024;
    private static final VgpuPartition PARTITION =
            new VgpuPartition(new GmRange(0x10_0000, 0x10_0000), new GmRange(0x4000_0000L, 0x10_0000), 0, 0);

    private final GpuMemory mem = new GpuMemory();
    private final GpuMemory.Ring ring = mem.ring(RING, RING_SIZE, 0);
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        mem.close();
        arena.close();
    }

    /** Plain state commands of {@code engine} (no handler), each at a random legal length, zero payload. */
    private static int[] plainStream(CommandTable table, Engine engine, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Integer> dws = new ArrayList<>();
        for (CommandDef def : table.rows()) {
            if (!def.legalOn(engine) || def.handler() != Handler.NONE || def.name().equals("MI_NOOP")) {
                continue;
            }
            HwCommand hw = HwCommandTable.gen9().findOnAnyEngine(def.header());
            if (hw != null && EngineCommands.gen9().op(hw) != null) {
                continue; // executed by the simulated GPU (blits): a zero payload is not a valid operation
            }
            int len = def.fixedLength() != 0 ? def.fixedLength()
                    : 2 + random.nextInt(Math.min(def.maxLength(), 24) - 1);
            dws.add(def.header(len));
            for (int i = 1; i < len; i++) {
                dws.add(0);
            }
        }
        if ((dws.size() & 1) != 0) {
            dws.add(0); // the ring ends on a qword (the simulated ring pads with an MI_NOOP otherwise)
        }
        return dws.stream().mapToInt(Integer::intValue).toArray();
    }

    private long scan(CommandTable table, Engine engine, int[] stream) throws ScanRejectedException {
        MemorySegment copy = arena.allocate(RING_SIZE, 4096);
        for (int i = 0; i < stream.length; i++) {
            copy.set(DW, 4L * i, stream[i]);
        }
        SegmentGraphicsMemory gm = new SegmentGraphicsMemory().map(RING, copy);
        try (CommandScanner scanner = new CommandScanner(table, Gen9RegisterPolicy.load(), PdpLoadHook.REJECT,
                ScanOptions.defaults())) {
            scanner.scanRing(new WorkloadContext(engine, PARTITION, gm, null, RING, new RecordedEvents()), RING,
                    RING_SIZE, 0, 4L * stream.length);
            return scanner.commandsScanned();
        }
    }

    private Completion execute(Engine engine, int[] stream) {
        ring.tail = 0;
        ring.emit(stream);
        return ring.run(engine, 0);
    }

    @Test
    void scannerAndGpuCountTheSameCommandsOnEveryEngine() throws Exception {
        CommandTable table = CommandTable.gen9();
        for (Engine engine : new Engine[] {Engine.RCS, Engine.BCS, Engine.VCS, Engine.VECS}) {
            int[] stream = plainStream(table, engine, 14);
            assertThat(4L * stream.length).isLessThan(RING_SIZE);
            long scanned = scan(table, engine, stream);
            Completion run = execute(engine, stream);
            assertThat(run.completed()).as(engine + ": " + run).isTrue();
            assertThat(run.commands()).as(engine + ": commands the GPU executed vs the scanner walked")
                    .isEqualTo((int) scanned);
        }
    }

    @Test
    void aWrongScannerLengthShowsUpEndToEnd() throws Exception {
        // the scanner's own table files with one wrong row: 3DSTATE_VS with a 7-bit length field instead of 8
        List<String> names = List.of("mi.tsv", "blt.tsv", "render.tsv", "video.tsv", "vebox.tsv");
        List<List<String>> files = new ArrayList<>();
        for (String name : names) {
            try (InputStream in = CommandTable.class.getResourceAsStream("gen9/" + name)) {
                files.add(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                        .map(l -> l.startsWith("3DSTATE_VS ") ? l.replace(" var:8 ", " var:7 ") : l).toList());
            }
        }
        assertThat(files.get(2)).anyMatch(l -> l.startsWith("3DSTATE_VS ") && l.contains(" var:7 "));
        CommandTable wrong = CommandTable.parse("wrong", names, files);
        int[] stream = new int[0x82 + 2];
        stream[0] = 0x78100000 | 0x80; // 3DSTATE_VS, 0x82 dwords
        stream[0x82] = 0x05 << 23; // MI_ARB_CHECK
        stream[0x83] = 0x05 << 23;
        long scannedWrong = scan(wrong, Engine.RCS, stream);
        long scannedRight = scan(CommandTable.gen9(), Engine.RCS, stream);
        Completion run = execute(Engine.RCS, stream);
        assertThat(run.completed()).as(run.toString()).isTrue();
        assertThat(run.commands()).isEqualTo((int) scannedRight).isNotEqualTo((int) scannedWrong);
    }
}
