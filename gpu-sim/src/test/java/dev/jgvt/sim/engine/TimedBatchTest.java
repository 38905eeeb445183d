package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.CsTimestamp;
import dev.jgvt.core.hw.Engine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The engine clock and ALU commands IGT's timed batches are built from: RING_TIMESTAMP / CTX_TIMESTAMP reads
 * (SRM, LRR), MI_MATH over the GPRs, MI_CONDITIONAL_BATCH_BUFFER_END; and a batch shaped like gem_wsim's, which
 * loops until the context timestamp says its duration has passed, run in slices.
 */
final class TimedBatchTest {
    private static final long RING = 0x10_0000;
    private static final long DATA = 0x20_0000;
    private static final long PBATCH = 0x7_0000_0000L;
    /** PPGTT memory: what a (non-privileged) PPGTT batch may store to and compare against. */
    private static final long PDATA = 0x8_0000_0000L;
    private static final int RCS = 0x2000;
    private static final int TIMESTAMP = RCS + 0x358;
    private static final int CTX_TIMESTAMP = RCS + 0x3A8;
    private static final int MI_MATH = 0x1A << 23;
    private static final int MI_COND_BBE = 0x36 << 23;
    private static final int DO_COMPARE = 1 << 21;

    private final GpuMemory mem = new GpuMemory();
    private final GpuMemory.Ring ring = mem.ring(RING, 4096, 0);
    private final GpuMemory.Surface data = mem.ggtt(DATA, 1);
    private final GpuMemory.Surface pdata = mem.ppgtt(PDATA, 1);

    @AfterEach
    void close() {
        mem.close();
    }

    private static int gpr(int n) {
        return RCS + 0x600 + 8 * n;
    }

    private static int alu(int opcode, int op1, int op2) {
        return opcode << 20 | op1 << 10 | op2;
    }

    private static int[] math(int... instructions) {
        int[] cmd = new int[instructions.length + 1];
        cmd[0] = MI_MATH | (instructions.length - 1);
        System.arraycopy(instructions, 0, cmd, 1, instructions.length);
        return cmd;
    }

    @Test
    void theTimestampRegistersRunAtTwelveMegahertzForStoresAndRegisterCopies() throws InterruptedException {
        long before = CsTimestamp.now();
        ring.emit(Cmd.srm(true, TIMESTAMP, DATA)).emit(Cmd.srm(true, TIMESTAMP + 4, DATA + 4))
                .emit(Cmd.lrr(CTX_TIMESTAMP, gpr(0))).emit(Cmd.srm(true, gpr(0), DATA + 8));
        assertThat(ring.run(Engine.RCS, 0).completed()).isTrue();
        long first = data.getLong(0);
        Thread.sleep(20);
        ring.emit(Cmd.srm(true, TIMESTAMP, DATA + 16)).emit(Cmd.srm(true, TIMESTAMP + 4, DATA + 20));
        assertThat(ring.run(Engine.RCS, ring.tail - 32).completed()).isTrue();
        long second = data.getLong(16);
        long after = CsTimestamp.now();
        assertThat(first).isBetween(before, after);
        assertThat(second - first).as("20 ms at 12 MHz, at least").isGreaterThanOrEqualTo(240_000);
        assertThat(second).isLessThanOrEqualTo(after);
        assertThat(data.getInt(8) & 0xFFFF_FFFFL).as("CTX_TIMESTAMP through LRR into a GPR")
                .isBetween(before & 0xFFFF_FFFFL, after & 0xFFFF_FFFFL);
    }

    @Test
    void miMathSubtractsAddsAndStoresInvertedValuesAndFlags() {
        ring.emit(Cmd.lri(gpr(0), 10, gpr(0) + 4, 0, gpr(1), 3, gpr(1) + 4, 0))
                .emit(math(alu(0x080, 0x20, 0), alu(0x080, 0x21, 1), alu(0x101, 0, 0), alu(0x180, 2, 0x31),
                        alu(0x580, 3, 0x31), alu(0x100, 0, 0), alu(0x180, 4, 0x31),
                        alu(0x080, 0x20, 1), alu(0x080, 0x21, 0), alu(0x101, 0, 0), alu(0x180, 5, 0x33),
                        alu(0x180, 6, 0x32)))
                .emit(concat(Cmd.srm(true, gpr(2), DATA), Cmd.srm(true, gpr(3), DATA + 4),
                        Cmd.srm(true, gpr(3) + 4, DATA + 8), Cmd.srm(true, gpr(4), DATA + 12),
                        Cmd.srm(true, gpr(5), DATA + 16), Cmd.srm(true, gpr(6), DATA + 20)));
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(data.getInt(0)).as("10 - 3").isEqualTo(7);
        assertThat(data.getInt(4)).as("~7 low").isEqualTo(~7);
        assertThat(data.getInt(8)).as("~7 high").isEqualTo(-1);
        assertThat(data.getInt(12)).as("10 + 3").isEqualTo(13);
        assertThat(data.getInt(16)).as("3 - 10 borrows: CF all ones").isEqualTo(-1);
        assertThat(data.getInt(20)).as("not zero: ZF clear").isZero();
    }

    @Test
    void conditionalBatchEndEndsTheBatchWhenMemoryIsAtMostTheCompareData() {
        GpuMemory.Surface batch = mem.ppgtt(PBATCH, 1);
        pdata.setInt(0x100, 5);
        int ppgttCompare = MI_COND_BBE | DO_COMPARE | 2;
        int[] program = concat(new int[] {ppgttCompare, 4, Cmd.lo(PDATA + 0x100), Cmd.hi(PDATA + 0x100)}, // 5 > 4
                Cmd.sdi(false, PDATA, 1),
                new int[] {ppgttCompare, 5, Cmd.lo(PDATA + 0x100), Cmd.hi(PDATA + 0x100)}, // 5 <= 5: end
                Cmd.sdi(false, PDATA + 4, 2), new int[] {Cmd.BB_END});
        for (int i = 0; i < program.length; i++) {
            batch.setInt(4L * i, program[i]);
        }
        ring.emit(Cmd.bbStart(PBATCH, true, false)).emit(Cmd.sdi(true, DATA + 8, 3));
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(pdata.getInt(0)).as("ran before the second compare").isEqualTo(1);
        assertThat(pdata.getInt(4)).as("skipped: the batch ended").isZero();
        assertThat(data.getInt(8)).as("back in the ring").isEqualTo(3);
    }

    /**
     * gem_wsim's timed batch: start = CTX_TIMESTAMP; loop { now = CTX_TIMESTAMP; GPR = ~(now - start); store it;
     * end the batch when the stored value <= ~duration; jump back }. Sliced, it ends after its duration.
     */
    @Test
    void aGemWsimShapedBatchLoopsInSlicesUntilItsDurationHasPassed() {
        GpuMemory.Surface batch = mem.ppgtt(PBATCH, 1);
        long durationTicks = CsTimestamp.ticks(30_000_000); // 30 ms
        int[] program = concat(Cmd.lri(gpr(0) + 4, 0), Cmd.lrr(CTX_TIMESTAMP, gpr(0)));
        int loop = program.length * 4;
        program = concat(program, Cmd.lri(gpr(1) + 4, 0), Cmd.lrr(CTX_TIMESTAMP, gpr(1)),
                math(alu(0x080, 0x20, 1), alu(0x080, 0x21, 0), alu(0x101, 0, 0), alu(0x580, 1, 0x31)),
                Cmd.srm(false, gpr(1), PDATA + 0x40),
                new int[] {MI_COND_BBE | DO_COMPARE | 2, (int) ~durationTicks, Cmd.lo(PDATA + 0x40), Cmd.hi(PDATA + 0x40)},
                Cmd.bbStart(PBATCH + loop, true, false));
        for (int i = 0; i < program.length; i++) {
            batch.setInt(4L * i, program[i]);
        }
        ring.emit(Cmd.bbStart(PBATCH, true, false)).emit(Cmd.sdi(true, DATA, 0xD0E));
        Submission s = ring.submission(Engine.RCS, 0, 1 << 20).sliced(1_000_000);
        long started = System.nanoTime();
        Completion c = mem.engines.submit(s);
        int slices = 1;
        while (c.preempted()) {
            c = mem.engines.submit(s.resume(c.state()));
            slices++;
        }
        long elapsed = System.nanoTime() - started;
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(data.getInt(0)).isEqualTo(0xD0E);
        assertThat(elapsed).as("ran for its duration").isGreaterThanOrEqualTo(30_000_000);
        assertThat(slices).as("in slices (of 1 ms each, longer when the host deschedules the thread)").isGreaterThan(1);
    }

    @Test
    void anotherWorkloadBetweenTwoSlicesNeitherSeesNorChangesTheGprsOfTheSuspendedOne() {
        GpuMemory.Surface batch = mem.ppgtt(PBATCH, 1);
        int[] spin = concat(new int[] {Cmd.ARB_CHECK}, Cmd.bbStart(PBATCH, true, false));
        for (int i = 0; i < spin.length; i++) {
            batch.setInt(4L * i, spin[i]);
        }
        ring.emit(Cmd.lri(gpr(0), 0x1234, gpr(0) + 4, 0x5678)).emit(Cmd.bbStart(PBATCH, true, false))
                .emit(Cmd.srm(true, gpr(0), DATA)).emit(Cmd.srm(true, gpr(0) + 4, DATA + 4));
        Submission a = ring.submission(Engine.RCS, 0, 1 << 20).sliced(1);
        Completion c = mem.engines.submit(a);
        assertThat(c.preempted()).as(c.toString()).isTrue();

        GpuMemory.Ring other = mem.ring(0x30_0000, 4096, 0);
        other.emit(Cmd.srm(true, gpr(0), DATA + 8)).emit(Cmd.lri(gpr(0), 0xBAD, gpr(0) + 4, 0xBAD));
        assertThat(other.run(Engine.RCS, 0).completed()).isTrue();
        assertThat(data.getInt(8)).as("a fresh workload sees cleared GPRs").isZero();

        batch.setInt(0, Cmd.BB_END);
        c = mem.engines.submit(a.resume(c.state()));
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(data.getInt(0)).as("GPR0 as the suspended workload left it").isEqualTo(0x1234);
        assertThat(data.getInt(4)).isEqualTo(0x5678);
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] all = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
