package dev.jgvt.core.cmd;

import static dev.jgvt.core.cmd.Fixture.APERTURE;
import static dev.jgvt.core.cmd.Fixture.HIDDEN;
import static dev.jgvt.core.cmd.Fixture.bbStart;
import static dev.jgvt.core.cmd.Fixture.concat;
import static dev.jgvt.core.cmd.Fixture.mi;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScanDumpTest {
    private static final long RING = APERTURE + 0x80000;
    private static final long RING_SIZE = 0x4000;
    private static final long BATCH = HIDDEN + 0x1000;
    private static final long BATCH2 = HIDDEN + 0x3000;
    private static final int USER_INTERRUPT = mi(0x02, 1);
    private static final int BB_END = mi(0x0A, 1);

    @TempDir
    Path dir;

    private final Fixture fx = new Fixture();
    private final CommandScanner scanner = CommandScanner.gen9();

    @AfterEach
    void close() {
        scanner.close();
        fx.close();
    }

    /** Scans the ring slice [head, tail) and hands the scan to {@code dump}, as the dispatcher does. */
    private ScanRejectedException scan(ScanDump dump, Engine engine, long head, long tail) {
        WorkloadContext context = fx.context(engine);
        ScanRejectedException rejection = null;
        try {
            scanner.scanRing(context, RING, RING_SIZE, head, tail);
        } catch (ScanRejectedException e) {
            rejection = e;
        }
        dump.scanned(1, context, new ScanObserver.RingSlice(RING, RING_SIZE, head, tail), scanner, rejection);
        return rejection;
    }

    private static byte[] bytes(int... dws) {
        ByteBuffer b = ByteBuffer.allocate(dws.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int dw : dws) {
            b.putInt(dw);
        }
        return b.array();
    }

    private List<ScanDumpRecord> read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return ScanDumpFile.read(in);
        }
    }

    @Test
    void aWorkloadIsDumpedAsTheGuestWroteItWithLevelsSpacesAndVerdictAndReplaysToTheSameVerdict() throws Exception {
        int[] ring = concat(new int[] {mi(0x22, 3), 0x7000, 1, USER_INTERRUPT}, bbStart(BATCH, false, false));
        int[] batch = concat(new int[] {USER_INTERRUPT}, bbStart(BATCH2, false, true), new int[] {BB_END});
        int[] batch2 = {mi(0x22, 3), 0x7000, 2, BB_END};
        fx.write(RING, ring);
        fx.write(BATCH, batch);
        fx.write(BATCH2, batch2);
        Path file = dir.resolve("scan.dump");
        try (ScanDump dump = ScanDump.create(file, 1 << 20, 100)) {
            assertThat(scan(dump, Engine.RCS, 0, 4L * ring.length)).isNull();
            // the scanner patched its shadow (MI_USER_INTERRUPT -> MI_NOOP); the dump holds the guest's bytes
            assertThat(scanner.shadowRing().get(Fixture.DW, 12)).isZero();
            assertThat(dump.workloads()).isEqualTo(1);
        }
        List<ScanDumpRecord> records = read(file);
        assertThat(records).extracting(ScanDumpRecord::level)
                .containsExactly(BufferKind.RING, BufferKind.BATCH, BufferKind.SECOND_LEVEL_BATCH);
        assertThat(records).allSatisfy(r -> {
            assertThat(r.engine()).isEqualTo(Engine.RCS);
            assertThat(r.ppgtt()).isFalse();
            assertThat(r.privileged()).isTrue();
            assertThat(r.verdict()).isEqualTo("accepted");
            assertThat(r.workload()).isEqualTo(1);
        });
        assertThat(records.get(0).bytes()).isEqualTo(bytes(ring));
        assertThat(records.get(0).gma()).isEqualTo(RING);
        assertThat(records.get(0).ring()).isEqualTo(new ScanObserver.RingSlice(RING, RING_SIZE, 0, 4L * ring.length));
        assertThat(records.get(0).partition().aperture()).isEqualTo(Fixture.PARTITION.aperture());
        assertThat(records.get(0).partition().hidden()).isEqualTo(Fixture.PARTITION.hidden());
        assertThat(records.get(0).hwsp()).isEqualTo(Fixture.HWSP);
        assertThat(records.get(1).gma()).isEqualTo(BATCH);
        assertThat(records.get(1).bytes()).isEqualTo(bytes(batch));
        assertThat(records.get(2).bytes()).isEqualTo(bytes(batch2));
        try (ScanReplay replay = new ScanReplay()) {
            assertThat(replay.verdict(records)).isEqualTo("accepted");
            assertThat(replay.bytesScanned()).isEqualTo(4L * (ring.length + batch.length + batch2.length));
        }
    }

    @Test
    void aRejectedWorkloadKeepsWhatTheScannerCopiedAndReplaysToTheSameRule() throws Exception {
        int[] ring = bbStart(BATCH, false, false);
        int[] batch = {USER_INTERRUPT, mi(0x22, 3), 0x7000, 1, mi(0x21, 3), 0x40, 0, BB_END}; // MI_STORE_DATA_INDEX
        fx.write(RING, ring);
        fx.write(BATCH, batch);
        Path file = dir.resolve("rejected.dump");
        try (ScanDump dump = ScanDump.create(file, 1 << 20, 100)) {
            assertThat(scan(dump, Engine.RCS, 0, 12).rule()).isEqualTo(Rule.FORBIDDEN_COMMAND);
        }
        List<ScanDumpRecord> records = read(file);
        assertThat(records).hasSize(2);
        assertThat(records).allSatisfy(r -> assertThat(r.verdict()).isEqualTo("rejected:forbidden-command"));
        // the batch did not end: its record holds what the scanner had copied (the first page), past the command
        assertThat(records.get(1).bytes().length).isGreaterThanOrEqualTo(batch.length * 4);
        try (ScanReplay replay = new ScanReplay()) {
            assertThat(replay.verdict(records)).isEqualTo("rejected:forbidden-command");
        }
    }

    @Test
    void aWrappedRingSliceIsUnwrappedAndReplaysAtItsAddresses() throws Exception {
        long head = RING_SIZE - 8;
        fx.write(RING + head, mi(0x22, 3), 0x7000);
        fx.write(RING, 1, USER_INTERRUPT);
        Path file = dir.resolve("wrapped.dump");
        try (ScanDump dump = ScanDump.create(file, 1 << 20, 100)) {
            assertThat(scan(dump, Engine.BCS, head, 8)).isNull();
        }
        List<ScanDumpRecord> records = read(file);
        assertThat(records.getFirst().bytes()).isEqualTo(bytes(mi(0x22, 3), 0x7000, 1, USER_INTERRUPT));
        try (ScanReplay replay = new ScanReplay()) {
            assertThat(replay.verdict(records)).isEqualTo("accepted");
        }
    }

    @Test
    void aWorkloadOfAShapeAlreadyDumpedIsCountedNotWritten() throws Exception {
        Path file = dir.resolve("dedup.dump");
        try (ScanDump dump = ScanDump.create(file, 1 << 20, 100)) {
            fx.write(RING, mi(0x22, 3), 0x7000, 1, USER_INTERRUPT);
            scan(dump, Engine.RCS, 0, 16);
            fx.write(RING, mi(0x22, 3), 0x7000, 7, USER_INTERRUPT); // same register, other value: same shape
            scan(dump, Engine.RCS, 0, 16);
            fx.write(RING, mi(0x22, 3), 0x7004, 7, USER_INTERRUPT); // another register: another shape
            scan(dump, Engine.RCS, 0, 16);
            scan(dump, Engine.BCS, 0, 16); // another engine
            assertThat(dump.workloads()).isEqualTo(3);
            assertThat(dump.duplicates()).isEqualTo(1);
        }
        assertThat(ScanDumpFile.workloads(read(file))).hasSize(3);
    }

    @Test
    void theDumpStopsAtItsLimitAndSaysSo() throws Exception {
        Path file = dir.resolve("limit.dump");
        try (ScanDump dump = ScanDump.create(file, 1 << 20, 1)) {
            fx.write(RING, USER_INTERRUPT, USER_INTERRUPT);
            scan(dump, Engine.RCS, 0, 8);
            scan(dump, Engine.BCS, 0, 8);
            scan(dump, Engine.VCS, 0, 8);
            assertThat(dump.workloads()).isEqualTo(1);
            assertThat(dump.summary()).contains("1 workloads").contains("2 scans after the limit");
        }
        assertThat(read(file)).hasSize(1);
    }

    @Test
    void badPathsFailWithOneLine() throws Exception {
        Path existing = Files.createFile(dir.resolve("exists"));
        assertThatThrownBy(() -> ScanDump.create(existing, 1 << 20, 10)).isInstanceOf(GvtException.class)
                .hasMessageContaining("exists").satisfies(e -> assertThat(((GvtException) e).code())
                        .isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> ScanDump.create(dir.resolve("no/such/dir/f"), 1 << 20, 10))
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> ScanDump.create(dir, 1 << 20, 10)).hasMessageContaining("is a directory");
        assertThatThrownBy(() -> ScanDump.create(dir.resolve("f"), 10, 10)).hasMessageContaining("limits");
        assertThat(Files.exists(dir.resolve("f"))).isFalse();
    }

    @Test
    void malformedDumpsAreNamedRecordByRecord() {
        assertThatThrownBy(() -> ScanDumpFile.read(stream("PNG\n"))).hasMessageContaining("not a scan dump");
        String ring = "workload=1 vgpu=1 engine=RCS level=ring space=ggtt privileged=yes gma=0x1000 verdict=accepted "
                + "ring=0x1000+0x1000 head=0x0 tail=0x8 aperture=0x0+0x100000 hidden=0x0+0x0 hwsp=0x0 bytes=8\n";
        assertThatThrownBy(() -> ScanDumpFile.read(stream(ScanDump.MAGIC + "\n" + ring + "abc")))
                .hasMessageContaining("record 1").hasMessageContaining("8 bytes announced, 3");
        assertThatThrownBy(() -> ScanDumpFile.read(stream(ScanDump.MAGIC + "\n" + ring.replace("level=ring", "level=x"))))
                .hasMessageContaining("record 1").hasMessageContaining("level must be");
        assertThatThrownBy(() -> ScanDumpFile.read(stream(ScanDump.MAGIC + "\n" + ring.replace(" hwsp=0x0", ""))))
                .hasMessageContaining("no hwsp=");
        String batch = "workload=2 vgpu=1 engine=RCS level=batch space=ggtt privileged=yes gma=0x0 verdict=accepted bytes=0\n";
        assertThatThrownBy(() -> ScanDumpFile.workloads(ScanDumpFile.read(stream(ScanDump.MAGIC + "\n" + batch))))
                .hasMessageContaining("without its ring record");
    }

    private static InputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
    }
}
