package dev.jgvt.core.cmd;

import static dev.jgvt.core.cmd.Fixture.APERTURE;
import static dev.jgvt.core.cmd.Fixture.FOREIGN;
import static dev.jgvt.core.cmd.Fixture.HIDDEN;
import static dev.jgvt.core.cmd.Fixture.bbStart;
import static dev.jgvt.core.cmd.Fixture.concat;
import static dev.jgvt.core.cmd.Fixture.mi;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The must-reject / must-accept corpus for every command that can reach memory or registers, one pair (or more) per
 * rule of GVT-g's policy (gvt-g.md §3.5–3.8) and per place where ours is stricter (command-scanner.md, "Policy").
 * Each case is a ring slice or a privileged first-level batch (an MI_BATCH_BUFFER_END is appended) on one engine.
 */
final class PolicyCorpusTest {
    private static final int BB_END = 0x0A << 23;
    private static final long RING = APERTURE + 0x80000;
    private static final long RING_SIZE = 0x4000;
    private static final int A = (int) APERTURE + 0x100;
    private static final int F = (int) FOREIGN;

    private final Fixture fx = new Fixture();
    private final CommandScanner scanner = CommandScanner.gen9();

    @AfterEach
    void close() {
        scanner.close();
        fx.close();
    }

    /** A corpus entry: {@code rule} null = must accept. */
    record Case(String id, Engine engine, boolean ring, Rule rule, int[] dws) {
        @Override
        public String toString() {
            return id + " on " + engine + (ring ? " (ring)" : " (batch)") + " -> " + (rule == null ? "accept" : rule.id());
        }
    }

    private static Case accept(String id, Engine e, boolean ring, int... dws) {
        return new Case(id, e, ring, null, dws);
    }

    private static Case reject(String id, Engine e, boolean ring, Rule rule, int... dws) {
        return new Case(id, e, ring, rule, dws);
    }

    static Stream<Case> corpus() {
        List<Case> c = new ArrayList<>();
        int semWait = mi(0x1C, 4);
        int ggtt = 1 << 22;
        for (Engine e : Engine.values()) {
            // MI_SEMAPHORE_WAIT: upstream rejects all; GGTT polls are audited (posted patch), PPGTT polls rejected
            c.add(accept("semaphore-wait-ggtt-in-range", e, true, semWait | ggtt, 0, A, 0));
            c.add(reject("semaphore-wait-ggtt-foreign", e, true, Rule.GM_OUT_OF_RANGE, semWait | ggtt, 0, F, 0));
            c.add(reject("semaphore-wait-ppgtt", e, true, Rule.FORBIDDEN_COMMAND, semWait, 0, 0x1000, 0));
            c.add(reject("semaphore-wait-ppgtt-in-batch", e, false, Rule.FORBIDDEN_COMMAND, semWait, 0, 0x1000, 0));
            c.add(reject("semaphore-wait-length-5", e, true, Rule.BAD_LENGTH, mi(0x1C, 5) | ggtt, 0, A, 0, 0));
            // second-level batch from the ring
            c.add(reject("2nd-level-from-ring", e, true, Rule.SECOND_LEVEL_FROM_RING, bbStart(HIDDEN, false, true)));
            c.add(reject("2nd-level-ppgtt-from-ring", e, true, Rule.SECOND_LEVEL_FROM_RING,
                    bbStart(0x10000, true, true)));
            c.add(reject("bb-end-in-ring", e, true, Rule.BB_END_IN_RING, BB_END));
            c.add(reject("bb-start-outside", e, true, Rule.GM_OUT_OF_RANGE, bbStart(FOREIGN, false, false)));
            c.add(accept("ppgtt-batch-not-scanned", e, true, bbStart(0x7000_0000L, true, false)));
            c.add(reject("bb-start-bad-length", e, true, Rule.BAD_LENGTH, mi(0x31, 4), A, 0, 0));
            // MI_SEMAPHORE_SIGNAL: fixed 2 dwords (GVT-g CMD_LEN(0)), no memory
            c.add(accept("semaphore-signal", e, true, mi(0x1B, 2), 0));
            c.add(reject("semaphore-signal-length", e, true, Rule.BAD_LENGTH, mi(0x1B, 3), 0, 0));
            // atomics: 3 dwords or 11 with inline data; GGTT operand audited
            c.add(accept("atomic-ggtt", e, true, mi(0x2F, 3) | ggtt, A, 0));
            c.add(accept("atomic-ppgtt", e, true, mi(0x2F, 3), F, 0));
            c.add(accept("atomic-inline", e, true, concat(new int[] {mi(0x2F, 11) | ggtt | (1 << 18), A, 0},
                    new int[8])));
            c.add(reject("atomic-ggtt-foreign", e, true, Rule.GM_OUT_OF_RANGE, mi(0x2F, 3) | ggtt, F, 0));
            c.add(reject("atomic-qword-straddles", e, true, Rule.GM_OUT_OF_RANGE, mi(0x2F, 3) | ggtt | (1 << 19),
                    (int) APERTURE + 0xFFFFC, 0));
            c.add(reject("atomic-length", e, true, Rule.BAD_LENGTH, mi(0x2F, 4) | ggtt, A, 0, 0));
            // MI_STORE_DATA_IMM: GGTT 4 or 5 dwords, audited
            c.add(accept("sdi-ggtt", e, true, mi(0x20, 4) | ggtt, A, 0, 1));
            c.add(accept("sdi-ggtt-qword", e, true, mi(0x20, 5) | ggtt | (1 << 21), A, 0, 1, 2));
            c.add(accept("sdi-ppgtt", e, true, mi(0x20, 4), F, 0, 1));
            c.add(reject("sdi-ggtt-foreign", e, true, Rule.GM_OUT_OF_RANGE, mi(0x20, 4) | ggtt, F, 0, 1));
            c.add(reject("sdi-ggtt-long", e, true, Rule.BAD_LENGTH, mi(0x20, 6) | ggtt, A, 0, 1, 2, 3));
            // MI_FLUSH_DW (not a render command): 4 or 5 dwords; GGTT post-sync audited; index mode in the HWSP
            if (e == Engine.RCS) {
                c.add(reject("flush-dw-on-rcs", e, true, Rule.WRONG_ENGINE, mi(0x26, 4), 0, 0, 0));
            } else {
                c.add(accept("flush-dw-ggtt", e, true, mi(0x26, 4) | (1 << 14), A | 4, 0, 0));
                c.add(reject("flush-dw-foreign", e, true, Rule.GM_OUT_OF_RANGE, mi(0x26, 4) | (1 << 14), F | 4, 0, 0));
                c.add(reject("flush-dw-index-out", e, true, Rule.HWSP_INDEX_OUT_OF_PAGE,
                        mi(0x26, 4) | (1 << 14) | (1 << 21), 0x1000, 0, 0));
                c.add(reject("flush-dw-length-3", e, true, Rule.BAD_LENGTH, mi(0x26, 3), 0, 0));
            }
            // forbidden outright
            c.add(reject("store-data-index", e, true, Rule.FORBIDDEN_COMMAND, mi(0x21, 3), 0x10, 0));
            c.add(reject("update-gtt", e, true, Rule.FORBIDDEN_COMMAND, mi(0x23, 3), 0, 0));
            c.add(reject("clflush", e, true, Rule.FORBIDDEN_COMMAND, mi(0x27, 3), A, 0));
            c.add(reject("report-perf-count", e, true, Rule.FORBIDDEN_COMMAND, mi(0x28, 4), A, 0, 0));
            c.add(reject("copy-mem-mem", e, true, Rule.FORBIDDEN_COMMAND, mi(0x2E, 5), A, 0, A, 0));
            c.add(reject("conditional-bb-end", e, false, Rule.FORBIDDEN_COMMAND, mi(0x36, 4), 0, A, 0));
            // MI_REPORT_HEAD and MI_SET_PREDICATE: allowed (one dword, no operand)
            c.add(accept("report-head", e, true, mi(0x07, 1)));
            c.add(accept("set-predicate", e, true, mi(0x01, 1)));
            // registers: LRI against the policy, SRM/LRM only the Gen9 pair, LRR never
            c.add(accept("lri-allowed", e, true, mi(0x22, 3), 0x7000, 1));
            c.add(reject("lri-not-accessible", e, true, Rule.REGISTER_NOT_ALLOWED, mi(0x22, 3), 0x100000, 0));
            c.add(reject("lri-outside-window", e, true, Rule.REGISTER_NOT_ALLOWED, mi(0x22, 3), 0x7FFFFC, 0));
            c.add(reject("lri-even-length", e, true, Rule.BAD_LENGTH, mi(0x22, 4), 0x7000, 1, 0));
            c.add(accept("srm-allowed", e, true, mi(0x24, 4) | ggtt, 0xB118, A, 0));
            c.add(reject("srm-register", e, true, Rule.REGISTER_NOT_ALLOWED, mi(0x24, 4) | ggtt, 0x7000, A, 0));
            c.add(reject("srm-foreign", e, true, Rule.GM_OUT_OF_RANGE, mi(0x24, 4) | ggtt, 0xB118, F, 0));
            c.add(accept("lrm-allowed", e, true, mi(0x29, 4) | ggtt, 0x21F0, A, 0));
            c.add(reject("lrm-register", e, true, Rule.REGISTER_NOT_ALLOWED, mi(0x29, 4) | ggtt, 0x2000, A, 0));
            c.add(reject("lrm-length", e, true, Rule.BAD_LENGTH, mi(0x29, 5) | ggtt, 0x21F0, A, 0, 0));
            c.add(reject("lrr", e, true, Rule.REGISTER_NOT_ALLOWED, mi(0x2A, 3), 0x215C, 0x7000));
        }
        // RCS only: predicates, URB memory operands, PIPE_CONTROL post-sync
        Engine r = Engine.RCS;
        c.add(accept("predicate", r, true, mi(0x0C, 1)));
        c.add(reject("predicate-on-bcs", Engine.BCS, true, Rule.WRONG_ENGINE, mi(0x0C, 1)));
        c.add(accept("store-urb-mem", r, true, mi(0x2D, 4), 0, A, 0));
        c.add(reject("store-urb-mem-foreign", r, true, Rule.GM_OUT_OF_RANGE, mi(0x2D, 4), 0, F, 0));
        c.add(reject("load-urb-mem-foreign", r, true, Rule.GM_OUT_OF_RANGE, mi(0x2C, 4), 0, F, 0));
        c.add(reject("rs-store-data-imm-foreign", r, true, Rule.GM_OUT_OF_RANGE, mi(0x2B, 4), F, 0, 0));
        int pc = 0x7A000000 | (6 - 2);
        c.add(accept("pipe-control-ggtt-write", r, true, pc, (1 << 14) | (1 << 24), A, 0, 1, 2));
        c.add(reject("pipe-control-foreign-write", r, true, Rule.GM_OUT_OF_RANGE, pc, (1 << 14) | (1 << 24), F, 0, 1,
                2));
        c.add(reject("pipe-control-timestamp-foreign", r, true, Rule.GM_OUT_OF_RANGE, pc, (3 << 14) | (1 << 24), F, 0,
                0, 0));
        c.add(reject("pipe-control-mmio-write", r, true, Rule.REGISTER_NOT_ALLOWED, pc, 1 << 23, 0x100000, 0, 1, 2));
        c.add(reject("pipe-control-index-out", r, true, Rule.HWSP_INDEX_OUT_OF_PAGE, pc, (1 << 14) | (1 << 21),
                0x1000, 0, 1, 2));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void corpusCase(Case k) {
        ScanRejectedException e = catchThrowableOfType(ScanRejectedException.class, () -> {
            if (k.ring()) {
                fx.write(RING, k.dws());
                scanner.scanRing(fx.context(k.engine()), RING, RING_SIZE, 0, 4L * k.dws().length);
            } else {
                fx.write(APERTURE, concat(k.dws(), new int[] {BB_END}));
                scanner.scanBatch(fx.context(k.engine()), APERTURE);
            }
        });
        if (k.rule() == null) {
            assertThat(e).as(k.toString()).isNull();
        } else {
            assertThat(e).as(k.toString()).isNotNull();
            assertThat(e.rule()).as(k + ": " + e.getMessage()).isEqualTo(k.rule());
        }
    }

    @Test
    void secondLevelBatchFromABatchIsFollowedAndScanned() throws Exception {
        fx.write(HIDDEN, mi(0x22, 3), 0x7000, 1, BB_END);
        fx.write(APERTURE, concat(bbStart(HIDDEN, false, true), new int[] {BB_END}));
        scanner.scanBatch(fx.context(Engine.VCS), APERTURE);
        assertThat(scanner.batches().count()).isEqualTo(2);
        assertThat(scanner.batches().guestAddress(1)).isEqualTo(HIDDEN);

        fx.write(HIDDEN, mi(0x22, 3), 0x100000, 1, BB_END);
        ScanRejectedException inner = catchThrowableOfType(ScanRejectedException.class,
                () -> scanner.scanBatch(fx.context(Engine.VCS), APERTURE));
        assertThat(inner.rule()).as("the second-level batch's own commands are scanned")
                .isEqualTo(Rule.REGISTER_NOT_ALLOWED);
        assertThat(inner.buffer()).isEqualTo(BufferKind.SECOND_LEVEL_BATCH);
    }

    @Test
    void firstLevelBatchFromTheRingReturnsToTheRing() throws Exception {
        fx.write(HIDDEN, mi(0x05, 1), BB_END);
        fx.write(RING, concat(bbStart(HIDDEN, false, false), new int[] {mi(0x1C, 4), 0, 0x1000, 0}));
        ScanRejectedException e = catchThrowableOfType(ScanRejectedException.class,
                () -> scanner.scanRing(fx.context(Engine.VCS), RING, RING_SIZE, 0, 28));
        assertThat(e.rule()).as("the ring command after the batch is scanned").isEqualTo(Rule.FORBIDDEN_COMMAND);
        assertThat(e.buffer()).isEqualTo(BufferKind.RING);
    }
}
