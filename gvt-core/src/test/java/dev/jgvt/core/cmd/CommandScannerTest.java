package dev.jgvt.core.cmd;

import static dev.jgvt.core.cmd.Fixture.APERTURE;
import static dev.jgvt.core.cmd.Fixture.DW;
import static dev.jgvt.core.cmd.Fixture.FOREIGN;
import static dev.jgvt.core.cmd.Fixture.HIDDEN;
import static dev.jgvt.core.cmd.Fixture.HWSP;
import static dev.jgvt.core.cmd.Fixture.bbStart;
import static dev.jgvt.core.cmd.Fixture.concat;
import static dev.jgvt.core.cmd.Fixture.mi;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class CommandScannerTest {
    private static final int BB_END = 0x0A << 23;
    private static final int NOOP = 0;
    private static final long RING = APERTURE + 0x80000;
    private static final long RING_SIZE = 0x4000;

    private final Fixture fx = new Fixture();
    private final CommandScanner scanner = CommandScanner.gen9();

    @AfterEach
    void close() {
        scanner.close();
        fx.close();
    }

    /** Puts {@code dws} at the start of the ring and scans [0, length). */
    private void scanRing(Engine engine, int... dws) throws ScanRejectedException {
        fx.write(RING, dws);
        scanner.scanRing(fx.context(engine), RING, RING_SIZE, 0, 4L * dws.length);
    }

    private ScanRejectedException rejectRing(Engine engine, int... dws) {
        return catchThrowableOfType(ScanRejectedException.class, () -> scanRing(engine, dws));
    }

    private void scanBatch(long gma, int... dws) throws ScanRejectedException {
        fx.write(gma, dws);
        scanner.scanBatch(fx.context(Engine.RCS), gma);
    }

    private ScanRejectedException rejectBatch(long gma, int... dws) {
        return catchThrowableOfType(ScanRejectedException.class, () -> scanBatch(gma, dws));
    }

    private int shadowRingDw(int index) {
        return scanner.shadowRing().get(DW, 4L * index);
    }

    @Test
    void commandsScannedCountsRingAndBatchCommandsAndEachNoopButNotRejectedScans() throws ScanRejectedException {
        int vs = 0x78100000 | (9 - 2); // 3DSTATE_VS: a plain command of 9 dwords
        int[] batch = concat(new int[] {vs, 0, 0, 0, 0, 0, 0, 0, 0, NOOP, NOOP, NOOP}, new int[] {BB_END});
        fx.write(HIDDEN, batch);
        scanRing(Engine.RCS, concat(bbStart(HIDDEN, false, false), new int[] {NOOP, vs, 0, 0, 0, 0, 0, 0, 0, 0, NOOP}));
        // ring: BB_START, NOOP, 3DSTATE_VS, NOOP; batch: 3DSTATE_VS, 3 NOOPs, BB_END
        assertThat(scanner.commandsScanned()).isEqualTo(4 + 5);
        rejectRing(Engine.RCS, vs, 0, 0, 0, 0, 0, 0, 0, 0, 0xFFFF_FFFF);
        assertThat(scanner.commandsScanned()).as("a rejected scan adds nothing").isEqualTo(9);
        scanRing(Engine.BCS, NOOP, NOOP);
        assertThat(scanner.commandsScanned()).isEqualTo(11);
    }

    /** Plain commands (the scanner's inner loop) straddling every position of the batch's copy-chunk boundaries. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8})
    void plainCommandsAcrossCopyChunks(int shift) throws ScanRejectedException {
        int vs = 0x78100000 | (9 - 2); // 3DSTATE_VS, 9 dwords
        int commands = 40_000 / 36;
        int[] dws = new int[shift + commands * 9 + 1];
        for (int i = 0; i < shift; i++) {
            dws[i] = 0x01800000; // MI_SET_PREDICATE, one dword
        }
        for (int c = 0; c < commands; c++) {
            dws[shift + 9 * c] = vs;
            for (int k = 1; k < 9; k++) {
                dws[shift + 9 * c + k] = 0x7A000000 | c; // payload that would be PIPE_CONTROL if read as a header
            }
        }
        dws[dws.length - 1] = BB_END;
        scanBatch(APERTURE, dws);
        assertThat(scanner.batches().count()).isEqualTo(1);
        assertThat(scanner.batches().size(0)).isEqualTo(4L * dws.length);
        assertThat(scanner.batches().shadow(0).toArray(DW)).isEqualTo(dws);
    }

    @Test
    void acceptsNoopsAndCopiesTheRingSliceIntoTheShadow() throws Exception {
        scanRing(Engine.RCS, NOOP, NOOP, NOOP, mi(0x05, 1), NOOP);
        assertThat(scanner.shadowRing().byteSize()).isEqualTo(20);
        assertThat(shadowRingDw(3)).isEqualTo(mi(0x05, 1));
        assertThat(scanner.batches().count()).isZero();
    }

    @Test
    void ringSliceWrapsAroundTheRingEnd() throws Exception {
        // the slice starts 8 bytes before the ring end and continues at the ring start
        fx.write(RING + RING_SIZE - 8, mi(0x05, 1), mi(0x22, 3));
        fx.write(RING, 0x7000, 0x1234, mi(0x05, 1));
        scanner.scanRing(fx.context(Engine.RCS), RING, RING_SIZE, RING_SIZE - 8, 12);
        MemorySegment shadow = scanner.shadowRing();
        assertThat(shadow.byteSize()).isEqualTo(20);
        assertThat(shadow.get(DW, 4)).isEqualTo(mi(0x22, 3));
        assertThat(shadow.get(DW, 8)).isEqualTo(0x7000);
        assertThat(shadow.get(DW, 16)).isEqualTo(mi(0x05, 1));
    }

    @Test
    void rejectionOffsetsInTheRingCountFromTheRingStart() {
        fx.write(RING + RING_SIZE - 8, NOOP, NOOP);
        fx.write(RING, NOOP, mi(0x23, 3), 0, 0);
        ScanRejectedException e = catchThrowableOfType(ScanRejectedException.class,
                () -> scanner.scanRing(fx.context(Engine.RCS), RING, RING_SIZE, RING_SIZE - 8, 16));
        assertThat(e.rule()).isEqualTo(Rule.FORBIDDEN_COMMAND);
        assertThat(e.command()).isEqualTo("MI_UPDATE_GTT");
        assertThat(e.offset()).isEqualTo(4);
        assertThat(e.buffer()).isEqualTo(BufferKind.RING);
        assertThat(e.getMessage()).contains("MI_UPDATE_GTT", "forbidden-command", "0x4");
        assertThat(e.toGvtException().code()).isEqualTo(ErrorCode.GUEST_ERROR);
    }

    @ParameterizedTest
    @ValueSource(strings = {"MI_UPDATE_GTT", "MI_STORE_DATA_INDEX", "MI_CLFLUSH", "MI_REPORT_PERF_COUNT",
        "MI_CONDITIONAL_BATCH_BUFFER_END", "MI_SET_CONTEXT", "MI_COPY_MEM_MEM"})
    void forbiddenCommandsAreRejected(String name) {
        CommandDef def = CommandTable.gen9().byName(name);
        int len = def.lengthBits() == 0 ? def.fixedLength() : 4;
        int[] cmd = new int[len];
        cmd[0] = def.header(len);
        ScanRejectedException e = rejectRing(Engine.RCS, concat(new int[] {NOOP, NOOP}, cmd));
        assertThat(e.rule()).isEqualTo(Rule.FORBIDDEN_COMMAND);
        assertThat(e.command()).isEqualTo(name);
        assertThat(e.offset()).isEqualTo(8);
    }

    @Test
    void unknownAndWrongEngineCommandsAreRejected() {
        ScanRejectedException unknown = rejectRing(Engine.RCS, NOOP, 0x2000_0000);
        assertThat(unknown.rule()).isEqualTo(Rule.UNKNOWN_COMMAND);
        assertThat(unknown.command()).isEqualTo("UNKNOWN");
        assertThat(unknown.offset()).isEqualTo(4);
        int blit = CommandTable.gen9().byName("XY_COLOR_BLT").header(7);
        ScanRejectedException wrong = rejectRing(Engine.RCS, blit, 0, 0, 0, 0, 0, 0);
        assertThat(wrong.rule()).isEqualTo(Rule.WRONG_ENGINE);
        assertThat(wrong.command()).isEqualTo("XY_COLOR_BLT");
        ScanRejectedException render = rejectRing(Engine.BCS, 0x7A000004, 0, 0, 0, 0, 0);
        assertThat(render.rule()).isEqualTo(Rule.WRONG_ENGINE);
        assertThat(render.command()).isEqualTo("PIPE_CONTROL");
    }

    @Test
    void aCommandRunningPastTheRingTailIsRejected() {
        ScanRejectedException e = rejectRing(Engine.RCS, NOOP, mi(0x22, 5), 0x7000, 1);
        assertThat(e.rule()).isEqualTo(Rule.PAST_BUFFER_END);
        assertThat(e.command()).isEqualTo("MI_LOAD_REGISTER_IMM");
        assertThat(e.offset()).isEqualTo(4);
    }

    @Test
    void lriToCommandAccessibleRegistersPassesAndOthersAreRejected() throws Exception {
        scanRing(Engine.RCS, mi(0x22, 5), 0x7000, 1, 0xE4F0, 2);
        ScanRejectedException e = rejectRing(Engine.RCS, mi(0x22, 5), 0x7000, 1, 0x100000 - 4, 2);
        assertThat(e.rule()).isEqualTo(Rule.REGISTER_NOT_ALLOWED);
        assertThat(e.detail()).contains("0xffffc");
        ScanRejectedException fence = rejectRing(Engine.RCS, mi(0x22, 3), 0x100000, 0);
        assertThat(fence.rule()).isEqualTo(Rule.REGISTER_NOT_ALLOWED);
        ScanRejectedException even = rejectRing(Engine.RCS, mi(0x22, 4), 0x7000, 1, 0);
        assertThat(even.rule()).isEqualTo(Rule.BAD_LENGTH);
    }

    @Test
    void derrmrAndForcewakeWritesArePatchedToThePvinfoPage() throws Exception {
        scanRing(Engine.BCS, mi(0x22, 5), 0x44050, 0xFFFFFFFF, 0xA188, 0x00010001);
        assertThat(shadowRingDw(1)).isEqualTo(Gen9RegisterPolicy.PATCH_TARGET);
        assertThat(shadowRingDw(3)).isEqualTo(Gen9RegisterPolicy.PATCH_TARGET);
        assertThat(shadowRingDw(2)).isEqualTo(0xFFFFFFFF);
    }

    @Test
    void pdpLoadsGoThroughTheShadowPpgttHook() throws Exception {
        long[] seen = new long[4];
        int[] mask = new int[1];
        PdpLoadHook hook = (engine, guest, written, shadow) -> {
            System.arraycopy(guest, 0, seen, 0, 4);
            mask[0] = written;
            shadow[0] = 0xABCD_0000_1000L;
            return true;
        };
        try (CommandScanner withHook = new CommandScanner(CommandTable.gen9(), Gen9RegisterPolicy.load(), hook,
                ScanOptions.defaults())) {
            fx.write(RING, mi(0x22, 5), 0x2274, 0x12, 0x2270, 0x3456_7000);
            withHook.scanRing(fx.context(Engine.RCS), RING, RING_SIZE, 0, 20);
            assertThat(seen[0]).isEqualTo(0x12_3456_7000L);
            assertThat(mask[0]).isEqualTo(0b11);
            assertThat(withHook.shadowRing().get(DW, 8)).isEqualTo(0xABCD);
            assertThat(withHook.shadowRing().get(DW, 16)).isEqualTo(0x1000);
        }
        ScanRejectedException refused = rejectRing(Engine.RCS, mi(0x22, 3), 0x2274, 0x12);
        assertThat(refused.rule()).isEqualTo(Rule.PDP_LOAD_REJECTED);
        ScanRejectedException other = rejectRing(Engine.RCS, mi(0x22, 3), 0x12274, 0x12);
        assertThat(other.rule()).isEqualTo(Rule.REGISTER_NOT_ALLOWED);
        assertThat(other.detail()).contains("another engine");
    }

    @Test
    void registerMemoryCommandsOnlyNameTheGen9Registers() throws Exception {
        scanRing(Engine.RCS, (0x24 << 23) | (1 << 22) | 2, 0xB118, (int) APERTURE, 0);
        ScanRejectedException reg = rejectRing(Engine.RCS, (0x29 << 23) | 2, 0x7000, (int) APERTURE, 0);
        assertThat(reg.rule()).isEqualTo(Rule.REGISTER_NOT_ALLOWED);
        ScanRejectedException addr = rejectRing(Engine.RCS, (0x24 << 23) | (1 << 22) | 2, 0xB118, (int) FOREIGN, 0);
        assertThat(addr.rule()).isEqualTo(Rule.GM_OUT_OF_RANGE);
        ScanRejectedException len = rejectRing(Engine.RCS, (0x24 << 23) | 3, 0xB118, (int) APERTURE, 0, 0);
        assertThat(len.rule()).isEqualTo(Rule.BAD_LENGTH);
        ScanRejectedException lrr = rejectRing(Engine.RCS, (0x2A << 23) | 1, 0x7000, 0x7004);
        assertThat(lrr.rule()).isEqualTo(Rule.REGISTER_NOT_ALLOWED);
    }

    @Test
    void storeDataImmIsAuditedAgainstTheWholePartition() throws Exception {
        int ggtt = (0x20 << 23) | (1 << 22) | 2;
        scanRing(Engine.RCS, ggtt, (int) (APERTURE + 0x100), 0, 7);
        scanRing(Engine.RCS, ggtt, (int) (HIDDEN + 0xFFFFC), 0, 7);
        // PPGTT stores are not GGTT accesses: allowed anywhere
        scanRing(Engine.RCS, (0x20 << 23) | 2, (int) FOREIGN, 0, 7);
        assertThat(rejectRing(Engine.RCS, ggtt, (int) FOREIGN, 0, 7).rule()).isEqualTo(Rule.GM_OUT_OF_RANGE);
        // a qword store straddling the end of the aperture slice
        assertThat(rejectRing(Engine.RCS, ggtt | (1 << 21) | 1, (int) (APERTURE + 0xFFFFC), 0, 7, 8).rule())
                .isEqualTo(Rule.GM_OUT_OF_RANGE);
        // a high address dword that moves the store out of range
        assertThat(rejectRing(Engine.RCS, ggtt, (int) APERTURE, 1, 7).rule()).isEqualTo(Rule.GM_OUT_OF_RANGE);
    }

    @Test
    void pipeControlPostSyncWritesAreAuditedAndIndexModeIsRewrittenIntoTheHwsp() throws Exception {
        int pc = 0x7A000004;
        scanRing(Engine.RCS, pc, (1 << 14) | (1 << 24), (int) (APERTURE + 8), 0, 1, 2);
        assertThat(rejectRing(Engine.RCS, pc, (1 << 14) | (1 << 24), (int) FOREIGN, 0, 1, 2).rule())
                .isEqualTo(Rule.GM_OUT_OF_RANGE);
        // timestamp write to GGTT out of range is audited as well
        assertThat(rejectRing(Engine.RCS, pc, (3 << 14) | (1 << 24), (int) FOREIGN, 0, 1, 2).rule())
                .isEqualTo(Rule.GM_OUT_OF_RANGE);
        scanRing(Engine.RCS, pc, (1 << 14) | (1 << 21) | (1 << 8), 0x40, 0, 1, 2);
        assertThat(shadowRingDw(1) & (1 << 21)).isZero();
        assertThat(shadowRingDw(1) & (1 << 24)).isNotZero();
        assertThat(shadowRingDw(2)).isEqualTo((int) (HWSP + 0x40));
        assertThat(fx.events.pending(Engine.RCS) & RecordedEvents.PIPE_CONTROL_NOTIFY).isNotZero();
        assertThat(rejectRing(Engine.RCS, pc, (1 << 14) | (1 << 21), 0xFFC, 0, 1, 2).rule())
                .isEqualTo(Rule.HWSP_INDEX_OUT_OF_PAGE);
        // MMIO post-sync write
        assertThat(rejectRing(Engine.RCS, pc, 1 << 23, 0x100000, 0, 1, 2).rule()).isEqualTo(Rule.REGISTER_NOT_ALLOWED);
        scanRing(Engine.RCS, pc, 1 << 23, 0x7000, 0, 1, 2);
    }

    @Test
    void flushDwPostSyncIsAuditedAndNotifyIsRecorded() throws Exception {
        int flush = (0x26 << 23) | (1 << 14) | 2;
        scanRing(Engine.BCS, flush | (1 << 8), (int) (APERTURE + 0x40) | 4, 0, 1);
        assertThat(fx.events.pending(Engine.BCS) & RecordedEvents.FLUSH_DW_NOTIFY).isNotZero();
        assertThat(rejectRing(Engine.BCS, flush, (int) FOREIGN | 4, 0, 1).rule()).isEqualTo(Rule.GM_OUT_OF_RANGE);
        scanRing(Engine.BCS, flush | (1 << 21), 0x80, 0, 1);
        assertThat(shadowRingDw(0) & (1 << 21)).isZero();
        assertThat(shadowRingDw(1)).isEqualTo((int) (HWSP + 0x80) | 4);
        assertThat(rejectRing(Engine.BCS, flush | (1 << 21), 0x1000, 0, 1).rule()).isEqualTo(Rule.HWSP_INDEX_OUT_OF_PAGE);
    }

    @Test
    void atomicsSemaphoresAndUrbStoresAreAudited() throws Exception {
        scanRing(Engine.RCS, (0x2F << 23) | (1 << 22) | 1, (int) APERTURE, 0);
        assertThat(rejectRing(Engine.RCS, (0x2F << 23) | (1 << 22) | (1 << 19) | 1, (int) (APERTURE + 0xFFFFC), 0)
                .rule()).isEqualTo(Rule.GM_OUT_OF_RANGE);
        scanRing(Engine.VCS, (0x1C << 23) | (1 << 22) | 2, 5, (int) HIDDEN, 0);
        assertThat(rejectRing(Engine.VCS, (0x1C << 23) | (1 << 22) | 2, 5, (int) FOREIGN, 0).rule())
                .isEqualTo(Rule.GM_OUT_OF_RANGE);
        assertThat(rejectRing(Engine.RCS, (0x2D << 23) | 2, 0, (int) FOREIGN, 0).rule()).isEqualTo(Rule.GM_OUT_OF_RANGE);
    }

    @Test
    void userInterruptsBecomeVirtualEventsAndNoops() throws Exception {
        scanRing(Engine.VECS, NOOP, mi(0x02, 1));
        assertThat(shadowRingDw(1)).isZero();
        assertThat(fx.events.pending(Engine.VECS) & RecordedEvents.USER_INTERRUPT).isNotZero();
        assertThat(fx.events.pending(Engine.RCS)).isZero();
    }

    @Test
    void displayFlipsAndFlipWaitsAreEmulated() throws Exception {
        scanRing(Engine.RCS, mi(0x14, 3) | (1 << 8), 64 << 6 | 1, 0x00ABC001, mi(0x03, 1) | (1 << 1), mi(0x03, 1) | 8);
        assertThat(shadowRingDw(0)).isZero();
        assertThat(shadowRingDw(2)).isZero();
        assertThat(shadowRingDw(3)).isZero();
        assertThat(shadowRingDw(4)).isEqualTo(mi(0x03, 1) | 8);
        assertThat(fx.events.flips()).isEqualTo(1);
        assertThat(fx.events.lastFlipPlane()).isEqualTo(1);
        assertThat(fx.events.lastFlipStride()).isEqualTo(64);
        assertThat(fx.events.lastFlipTiling()).isEqualTo(1);
        assertThat(fx.events.lastFlipSurface()).isEqualTo(0x00ABC000L);
        assertThat(fx.events.lastFlipAsync()).isTrue();
        assertThat(fx.events.pending(Engine.RCS) & RecordedEvents.FLIP_WAIT).isNotZero();
        assertThat(rejectRing(Engine.RCS, mi(0x14, 5), 0, 0, 0, 0).rule()).isEqualTo(Rule.BAD_LENGTH);
    }

    @Test
    void privilegedBatchesAreShadowedScannedAndRecordedForRelocation() throws Exception {
        long bb = APERTURE + 0x2000;
        fx.write(bb, mi(0x22, 3), 0x7000, 5, mi(0x02, 1), BB_END);
        scanRing(Engine.RCS, concat(new int[] {NOOP}, bbStart(bb, false, false), new int[] {mi(0x05, 1)}));
        ShadowBatches b = scanner.batches();
        assertThat(b.count()).isEqualTo(1);
        assertThat(b.guestAddress(0)).isEqualTo(bb);
        assertThat(b.size(0)).isEqualTo(20);
        assertThat(b.parentBuffer(0)).isEqualTo(ShadowBatches.RING);
        assertThat(b.parentOffset(0)).isEqualTo(4);
        assertThat(b.shadow(0).get(DW, 0)).isEqualTo(mi(0x22, 3));
        assertThat(b.shadow(0).get(DW, 12)).isZero(); // user interrupt patched in the shadow
        assertThat(fx.events.pending(Engine.RCS) & RecordedEvents.USER_INTERRUPT).isNotZero();
        assertThat(fx.ggtt.outsideReads).isZero();
    }

    @Test
    void aForbiddenCommandInsideABatchIsFoundWithItsOffsetInTheBatch() {
        long bb = HIDDEN + 0x1000;
        fx.write(bb, NOOP, NOOP, mi(0x21, 3), 0, 0, BB_END);
        ScanRejectedException e = rejectRing(Engine.RCS, bbStart(bb, false, false));
        assertThat(e.rule()).isEqualTo(Rule.FORBIDDEN_COMMAND);
        assertThat(e.command()).isEqualTo("MI_STORE_DATA_INDEX");
        assertThat(e.buffer()).isEqualTo(BufferKind.BATCH);
        assertThat(e.bufferAddress()).isEqualTo(bb);
        assertThat(e.offset()).isEqualTo(8);
    }

    @Test
    void batchBufferRulesFollowGvt() {
        long bb = APERTURE + 0x3000;
        long bb2 = APERTURE + 0x5000;
        assertThat(rejectRing(Engine.RCS, bbStart(bb, false, true)).rule()).isEqualTo(Rule.SECOND_LEVEL_FROM_RING);
        fx.write(bb2, concat(bbStart(bb, false, false), new int[] {BB_END}));
        assertThat(rejectBatch(bb, concat(bbStart(bb2, false, true), new int[] {BB_END})).rule())
                .isEqualTo(Rule.BB_START_IN_SECOND_LEVEL);
        assertThat(rejectRing(Engine.RCS, NOOP, BB_END).rule()).isEqualTo(Rule.BB_END_IN_RING);
        assertThat(rejectRing(Engine.RCS, bbStart(FOREIGN, false, false)).rule()).isEqualTo(Rule.GM_OUT_OF_RANGE);
        assertThat(fx.ggtt.outsideReads).isZero();
        assertThat(rejectRing(Engine.RCS, (0x31 << 23) | 2, (int) bb, 0, 0).rule()).isEqualTo(Rule.BAD_LENGTH);
    }

    @Test
    void secondLevelBatchesReturnToTheirCaller() throws Exception {
        long first = APERTURE + 0x3000;
        long second = HIDDEN + 0x5000;
        fx.write(second, mi(0x22, 3), 0x7004, 1, BB_END);
        scanBatch(first, concat(bbStart(second, false, true), new int[] {mi(0x22, 3), 0x7000, 2, BB_END}));
        ShadowBatches b = scanner.batches();
        assertThat(b.count()).isEqualTo(2);
        assertThat(b.pool(1)).isEqualTo(ShadowBatches.SECOND_LEVEL_POOL);
        assertThat(b.parentBuffer(1)).isEqualTo(ShadowBatches.FIRST_LEVEL_POOL);
        assertThat(b.size(0)).isEqualTo(28);
        assertThat(b.shadow(1).get(DW, 4)).isEqualTo(0x7004);
    }

    @Test
    void chainedBatchesReplaceTheCurrentOne() throws Exception {
        long a = APERTURE + 0x3000;
        long c = APERTURE + 0x6000;
        fx.write(c, mi(0x05, 1), BB_END);
        scanRing(Engine.RCS, bbStart(a, false, false));
        fx.write(a, concat(new int[] {NOOP}, bbStart(c, false, false), new int[] {0x2000_0000}));
        // the junk after the chained start is never executed, so it is not scanned
        scanner.scanRing(fx.context(Engine.RCS), RING, RING_SIZE, 0, 12);
        ShadowBatches b = scanner.batches();
        assertThat(b.count()).isEqualTo(2);
        assertThat(b.size(0)).isEqualTo(16);
        assertThat(b.parentBuffer(1)).isEqualTo(ShadowBatches.FIRST_LEVEL_POOL);
        assertThat(b.parentOffset(1)).isEqualTo(b.shadowOffset(0) + 4);
        assertThat(b.shadow(1).get(DW, 4)).isEqualTo(BB_END);
    }

    @Test
    void aSelfChainingBatchIsStoppedByTheBatchLimit() {
        long a = APERTURE + 0x3000;
        fx.write(a, bbStart(a, false, false));
        ScanRejectedException e = rejectRing(Engine.RCS, bbStart(a, false, false));
        assertThat(e.rule()).isEqualTo(Rule.TOO_MANY_BATCHES);
    }

    @Test
    void aBatchWithoutEndRunsIntoTheEndOfTheRangeOrUnmappedMemory() {
        // the hidden slice holds only MI_NOOPs from 0x10000 on: the walk reaches the end of the slice
        ScanRejectedException e = rejectRing(Engine.RCS, bbStart(HIDDEN + 0x10000, false, false));
        assertThat(e.rule()).isEqualTo(Rule.GM_OUT_OF_RANGE);
        assertThat(fx.ggtt.outsideReads).isZero();
        // an unmapped page inside the partition
        fx.write(RING, bbStart(APERTURE + 0x4000, false, false));
        try (CommandScanner s = CommandScanner.gen9()) {
            SegmentGraphicsMemory gm = new SegmentGraphicsMemory().map(APERTURE, fx.aperture.asSlice(0, 0x5000))
                    .map(RING, fx.aperture.asSlice(RING - APERTURE, RING_SIZE));
            WorkloadContext ctx = new WorkloadContext(Engine.RCS, Fixture.PARTITION, gm, null, HWSP, fx.events);
            ScanRejectedException u = catchThrowableOfType(ScanRejectedException.class,
                    () -> s.scanRing(ctx, RING, RING_SIZE, 0, 12));
            assertThat(u.rule()).isEqualTo(Rule.GM_UNMAPPED);
            assertThat(u.detail()).contains("0x105000");
        }
    }

    @Test
    void ppgttBatchesAreNotScannedByDefaultButCanBeAsADiagnostic() throws Exception {
        long bb = 0x7_0000_0000L;
        int[] ring = concat(bbStart(bb, true, false), new int[] {mi(0x05, 1)});
        scanRing(Engine.RCS, ring);
        assertThat(scanner.batches().count()).isZero();
        SegmentGraphicsMemory ppgtt = new SegmentGraphicsMemory().map(bb, fx.foreign);
        fx.write(FOREIGN, mi(0x23, 3), 0, 0, BB_END);
        try (CommandScanner diag = new CommandScanner(CommandTable.gen9(), Gen9RegisterPolicy.load(),
                PdpLoadHook.REJECT, ScanOptions.defaults().withScanPpgttBatches(true))) {
            WorkloadContext ctx = new WorkloadContext(Engine.RCS, Fixture.PARTITION, fx.ggtt, ppgtt, HWSP, fx.events);
            ScanRejectedException e = catchThrowableOfType(ScanRejectedException.class,
                    () -> diag.scanRing(ctx, RING, RING_SIZE, 0, 16));
            assertThat(e.rule()).isEqualTo(Rule.FORBIDDEN_COMMAND);
            assertThat(e.bufferAddress()).isEqualTo(bb);
            assertThat(diag.rejectedInPpgttBatch()).as("the live path reports it, not holds it against the workload")
                    .isTrue();
            fx.write(FOREIGN, mi(0x05, 1), BB_END);
            diag.scanRing(ctx, RING, RING_SIZE, 0, 16);
            assertThat(diag.batches().count()).isEqualTo(1);
            assertThat(diag.batches().ppgtt(0)).isTrue();
            fx.write(RING, mi(0x23, 3), 0, 0, mi(0x05, 1));
            assertThat(catchThrowableOfType(ScanRejectedException.class, () -> diag.scanRing(ctx, RING, RING_SIZE, 0, 16)))
                    .isNotNull();
            assertThat(diag.rejectedInPpgttBatch()).as("a rejection in the ring").isFalse();
        }
    }

    @Test
    void aPpgttSpinnerLoopingBackEndsTheDiagnosticScanInsteadOfHittingTheBatchBound() throws Exception {
        long bb = 0x7_0000_0000L;
        int[] ring = concat(bbStart(bb, true, false), new int[] {mi(0x05, 1)});
        fx.write(RING, ring);
        // igt_spin: MI_ARB_CHECK, then MI_BATCH_BUFFER_START back to its own start (chained)
        fx.write(FOREIGN, concat(new int[] {mi(0x05, 1), 0}, bbStart(bb + 4, true, false)));
        SegmentGraphicsMemory ppgtt = new SegmentGraphicsMemory().map(bb, fx.foreign);
        try (CommandScanner diag = new CommandScanner(CommandTable.gen9(), Gen9RegisterPolicy.load(),
                PdpLoadHook.REJECT, ScanOptions.defaults().withScanPpgttBatches(true))) {
            WorkloadContext ctx = new WorkloadContext(Engine.RCS, Fixture.PARTITION, fx.ggtt, ppgtt, HWSP, fx.events);
            diag.scanRing(ctx, RING, RING_SIZE, 0, 16);
            assertThat(diag.batches().count()).isEqualTo(1);
            assertThat(diag.batches().size(0)).isEqualTo(20);
            // a chain to PPGTT bytes not scanned yet is followed
            fx.write(FOREIGN, concat(new int[] {mi(0x05, 1), 0}, bbStart(bb + 0x100, true, false)));
            fx.foreign.set(Fixture.DW, 0x100, BB_END);
            diag.scanRing(ctx, RING, RING_SIZE, 0, 16);
            assertThat(diag.batches().count()).isEqualTo(2);
        }
    }

    @Test
    void badRingParametersAreRejected() {
        WorkloadContext ctx = fx.context(Engine.RCS);
        assertThatThrownBy(() -> scanner.scanRing(ctx, RING + 4, RING_SIZE, 0, 0))
                .isInstanceOf(ScanRejectedException.class).hasMessageContaining("bad-ring");
        assertThatThrownBy(() -> scanner.scanRing(ctx, RING, RING_SIZE, RING_SIZE, 0))
                .isInstanceOf(ScanRejectedException.class).hasMessageContaining("bad-ring");
        assertThatThrownBy(() -> scanner.scanRing(ctx, FOREIGN, RING_SIZE, 0, 4))
                .isInstanceOf(ScanRejectedException.class).hasMessageContaining("gm-out-of-range");
    }

    @Test
    void syntheticStreamsAreAccepted() throws Exception {
        for (Engine engine : Engine.values()) {
            MemorySegment stream = SyntheticStreams.batch(engine, 64 * 1024, 42, Fixture.PARTITION, fx.arena);
            MemorySegment.copy(stream, 0, fx.hidden, 0, stream.byteSize());
            scanner.scanBatch(fx.context(engine), HIDDEN);
            assertThat(scanner.batches().size(0)).isEqualTo(stream.byteSize());
        }
    }

    @Test
    void largeBatchesGrowThePoolsAndTheShadowStaysExact() throws Exception {
        // 1st-level batch of 200 KiB in the hidden slice calling a 2nd-level batch of 150 KiB in the aperture;
        // both exceed the pools' initial 64 KiB, so they grow while being scanned
        long first = HIDDEN;
        long second = APERTURE + 0x10000;
        int[] secondBody = new int[150 * 256];
        for (int i = 0; i + 3 < secondBody.length - 1; i += 3) {
            secondBody[i] = mi(0x22, 3);
            secondBody[i + 1] = 0x7000;
            secondBody[i + 2] = i;
        }
        secondBody[secondBody.length - 1] = BB_END;
        fx.write(second, secondBody);
        int[] firstBody = new int[200 * 256];
        System.arraycopy(bbStart(second, false, true), 0, firstBody, 1000, 3);
        firstBody[firstBody.length - 3] = mi(0x02, 1);
        firstBody[firstBody.length - 1] = BB_END;
        fx.write(first, firstBody);
        scanRing(Engine.RCS, bbStart(first, false, false));
        ShadowBatches b = scanner.batches();
        assertThat(b.count()).isEqualTo(2);
        assertThat(b.size(0)).isEqualTo(4L * firstBody.length);
        assertThat(b.size(1)).isEqualTo(4L * secondBody.length);
        for (int i = 0; i < secondBody.length; i++) {
            assertThat(b.shadow(1).get(DW, 4L * i)).as("dword %d", i).isEqualTo(secondBody[i]);
        }
        assertThat(b.shadow(0).get(DW, 4L * 1000)).isEqualTo(bbStart(second, false, true)[0]);
        assertThat(b.shadow(0).get(DW, 4L * (firstBody.length - 3))).isZero();
        ReferenceWalker walker = new ReferenceWalker(CommandTable.gen9(), Gen9RegisterPolicy.load(), Fixture.PARTITION,
                HWSP, Engine.RCS, b);
        walker.walkRing(scanner.shadowRing());
        assertThat(walker.violations).isEmpty();
        // a long ring slice grows the shadow ring
        int[] ring = new int[100 * 256];
        ring[ring.length - 1] = mi(0x05, 1);
        fx.write(APERTURE + 0x40000, ring);
        scanner.scanRing(fx.context(Engine.RCS), APERTURE + 0x40000, 0x20000, 0, 4L * ring.length);
        assertThat(scanner.shadowRing().byteSize()).isEqualTo(4L * ring.length);
        assertThat(scanner.shadowRing().get(DW, 4L * (ring.length - 1))).isEqualTo(mi(0x05, 1));
    }

    /** MFX_WAIT is one dword (i915, the media driver); read as GVT-g's 2, it would hide the next command's header. */
    @Test
    void mfxWaitIsOneDwordSoTheNextHeaderIsScanned() {
        ScanRejectedException e = rejectRing(Engine.VCS, 0x6800_0100, mi(0x21, 3), 0x40, 0);
        assertThat(e.rule()).isEqualTo(Rule.FORBIDDEN_COMMAND);
        assertThat(e.command()).isEqualTo("MI_STORE_DATA_INDEX");
        assertThat(e.offset()).isEqualTo(4);
    }

    /**
     * An MFX_WAIT whose DWord Length field is not 0 is rejected: genxml (field + 1 dwords) and i915 (one dword)
     * disagree on its length, and reading it either way could let the engine run dwords the scanner stepped over:
     * here an engine reading two dwords would run the MI_STORE_DATA_INDEX that a one-dword reading hides inside a
     * 258-dword MFX_PIPE_MODE_SELECT.
     */
    @Test
    void mfxWaitWithALengthFieldIsRejected() {
        ScanRejectedException e = rejectRing(Engine.VCS, mi(0, 1), 0x6800_0001, 0x7000_0100, mi(0x21, 3), 0x40, 0);
        assertThat(e.rule()).isEqualTo(Rule.BAD_LENGTH);
        assertThat(e.command()).isEqualTo("MFX_WAIT");
        assertThat(e.offset()).isEqualTo(4);
    }
}
