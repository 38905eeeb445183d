package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.sim.GpuAddressSpace;
import dev.jgvt.sim.GpuFault;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class BatchAndRingTest {
    private static final long RING = 0x10_0000;
    private static final long DATA = 0x20_0000;
    private static final long GBATCH = 0x30_0000;
    private static final long PBATCH = 0x1_0000_0000L;
    private static final long PBATCH2 = 0x2_0000_0000L;

    private final GpuMemory mem = new GpuMemory();
    private final GpuMemory.Ring ring = mem.ring(RING, 8192, 0);
    /** In the GGTT for the ring and GGTT batches, at the same address in the PPGTT for PPGTT batches. */
    private final GpuMemory.Surface data = mem.both(DATA, 1);

    @AfterEach
    void close() {
        mem.close();
    }

    /** Writes commands into a surface from {@code offset}; returns the offset after them. */
    private static int put(GpuMemory.Surface s, int offset, int[]... commands) {
        for (int[] c : commands) {
            for (int d : c) {
                s.setInt(offset, d);
                offset += 4;
            }
        }
        return offset;
    }

    @Test
    void firstLevelBatchesInPpgttAndGgttReturnToTheRing() {
        GpuMemory.Surface pb = mem.ppgtt(PBATCH, 2);
        GpuMemory.Surface gb = mem.ggtt(GBATCH, 1);
        // The PPGTT batch crosses a page boundary (pages are not device-contiguous).
        int off = put(pb, 0xFF0, Cmd.sdi(false, DATA, 1), new int[] {Cmd.NOOP}, Cmd.sdi(false, DATA + 4, 2), new int[] {Cmd.BB_END});
        assertThat(off).isGreaterThan(0x1000);
        put(gb, 0, Cmd.sdi(true, DATA + 8, 3), new int[] {Cmd.BB_END});
        ring.emit(Cmd.bbStart(PBATCH + 0xFF0, true, false)).emit(Cmd.sdi(true, DATA + 12, 4))
                .emit(Cmd.bbStart(GBATCH, false, false)).emit(Cmd.sdi(true, DATA + 16, 5));
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(new int[] {data.getInt(0), data.getInt(4), data.getInt(8), data.getInt(12), data.getInt(16)})
                .containsExactly(1, 2, 3, 4, 5);
        assertThat(c.head()).isEqualTo(ring.tail);
    }

    @Test
    void secondLevelBatchReturnsIntoTheFirstLevelAndChainingDoesNotReturn() {
        GpuMemory.Surface first = mem.ppgtt(PBATCH, 1);
        GpuMemory.Surface second = mem.ppgtt(PBATCH2, 1);
        GpuMemory.Surface chained = mem.ppgtt(GBATCH, 1);
        put(first, 0, Cmd.sdi(false, DATA, 1), Cmd.bbStart(PBATCH2, true, true), Cmd.sdi(false, DATA + 4, 3),
                Cmd.bbStart(GBATCH, true, false), Cmd.sdi(false, DATA + 8, 0xBAD), new int[] {Cmd.BB_END});
        put(second, 0, Cmd.sdi(false, DATA + 12, 2), new int[] {Cmd.BB_END}, Cmd.sdi(false, DATA + 16, 0xBAD));
        put(chained, 0, Cmd.sdi(false, DATA + 20, 4), new int[] {Cmd.BB_END});
        ring.emit(Cmd.bbStart(PBATCH, true, false)).emit(Cmd.sdi(true, DATA + 24, 5));
        Completion c = ring.run(Engine.BCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(data.getInt(0)).isEqualTo(1);
        assertThat(data.getInt(12)).isEqualTo(2);
        assertThat(data.getInt(16)).as("after the second-level BB_END").isZero();
        assertThat(data.getInt(4)).as("returned into the first level").isEqualTo(3);
        assertThat(data.getInt(20)).isEqualTo(4);
        assertThat(data.getInt(8)).as("a chained batch does not return").isZero();
        assertThat(data.getInt(24)).isEqualTo(5);
    }

    @Test
    void secondLevelBatchFromTheRingIsAnIllegalCommand() {
        mem.ppgtt(PBATCH, 1);
        ring.emit(Cmd.bbStart(PBATCH, true, true));
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.error()).get().isInstanceOfSatisfying(EngineError.IllegalCommand.class,
                e -> assertThat(e.command()).isEqualTo("MI_BATCH_BUFFER_START"));
    }

    @Test
    void aBatchWithoutArbitrationPointStopsAtTheCommandBound() {
        GpuMemory.Surface b = mem.ppgtt(PBATCH, 2);
        for (int i = 0; i < 2000; i++) {
            b.setInt(4 * i, Cmd.NOOP);
        }
        ring.emit(Cmd.bbStart(PBATCH, true, false));
        Completion c = ring.run(Engine.VCS, 0, 1001);
        assertThat(c.hung()).isTrue();
        assertThat(c.commands()).as("the ring's BB_START (an arbitration point), then 1001 without one").isEqualTo(1002);
        assertThat(c.error()).get().isInstanceOfSatisfying(EngineError.CommandLimit.class, e -> {
            assertThat(e.limit()).isEqualTo(1001);
            assertThat(e.where().buffer()).isEqualTo(Location.Buffer.FIRST_LEVEL_BATCH);
            assertThat(e.where().address()).isEqualTo(PBATCH + 4 * 1001);
        });
        assertThat(c.head()).as("head stays at the ring's BB_START").isZero();
    }

    @Test
    void aSelfChainingBatchRunsInSlicesAndEndsWhenMemoryEndsIt() {
        GpuMemory.Surface b = mem.ppgtt(PBATCH, 1);
        put(b, 0, new int[] {Cmd.ARB_CHECK}, Cmd.sdi(false, DATA, 7), Cmd.bbStart(PBATCH, true, false));
        ring.emit(Cmd.bbStart(PBATCH, true, false)).emit(Cmd.sdi(true, DATA + 4, 9));
        Submission s = ring.submission(Engine.VCS, 0, 5).sliced(1);
        Completion c = mem.engines.submit(s);
        assertThat(c.preempted()).as(c.toString()).isTrue();
        assertThat(c.hung()).isFalse();
        assertThat(c.head()).as("the ring command being executed").isZero();
        assertThat(c.state().level()).isEqualTo(1);
        assertThat(c.state().batchPpgtt()).isTrue();
        int commands = c.commands();
        for (int i = 0; i < 100; i++) {
            c = mem.engines.submit(s.resume(c.state()));
            assertThat(c.preempted()).as(c.toString()).isTrue();
            commands += c.commands();
        }
        assertThat(commands).as("many times the command bound of 5, without a hang").isGreaterThan(100);
        assertThat(data.getInt(0)).isEqualTo(7);
        assertThat(data.getInt(4)).as("the ring after the batch has not run").isZero();

        b.setInt(0, Cmd.BB_END); // the CPU ends the loop: the next slice fetches it
        c = mem.engines.submit(s.resume(c.state()));
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(c.head()).isEqualTo(ring.tail);
        assertThat(data.getInt(4)).isEqualTo(9);
    }

    @Test
    void theRingSliceWrapsIncludingACommandAcrossTheEnd() {
        GpuMemory.Ring small = mem.ring(0x40_0000, 4096, 4096 - 8);
        int head = small.tail;
        small.emit(Cmd.sdi(true, DATA, 0x11)) // 4 dwords: 2 before the end, 2 after
                .emit(Cmd.sdi(true, DATA + 4, 0x22, 0x33));
        assertThat(small.tail).isLessThan(head);
        Completion c = small.run(Engine.BCS, head);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(c.head()).isEqualTo(small.tail);
        assertThat(data.getInt(0)).isEqualTo(0x11);
        assertThat(data.getLong(4)).isEqualTo(0x33_0000_0022L);
    }

    @Test
    void aCommandRunningPastTheTailIsIllegal() {
        ring.emit(Cmd.sdi(true, DATA, 1));
        Submission s = new Submission(Engine.RCS, RING, 8192, 0, 8, mem.ppgtt, 100);
        Completion c = mem.engines.submit(s);
        assertThat(c.error()).get().isInstanceOf(EngineError.IllegalCommand.class);
        assertThat(data.getInt(0)).isZero();
    }

    @Test
    void aNonPresentPpgttPageFaultsNamingTheCommandAndAddress() {
        long hole = 0x5_0000_0000L;
        ring.emit(Cmd.sdi(true, DATA, 1)).emit(Cmd.sdi(false, hole + 0x24, 2)).emit(Cmd.sdi(true, DATA + 4, 3));
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.hung()).isTrue();
        assertThat(c.head()).isEqualTo(16);
        assertThat(c.error()).get().isInstanceOfSatisfying(EngineError.PageFault.class, e -> {
            assertThat(e.command()).isEqualTo("MI_STORE_DATA_IMM");
            assertThat(e.fault().kind()).isEqualTo(GpuFault.Kind.NOT_PRESENT);
            assertThat(e.fault().address()).isEqualTo(hole + 0x24);
            assertThat(e.where().buffer()).isEqualTo(Location.Buffer.RING);
            assertThat(e.where().address()).isEqualTo(RING + 16);
            assertThat(e.describe()).contains("MI_STORE_DATA_IMM", "0x500000024", "RING");
        });
        assertThat(data.getInt(0)).isEqualTo(1);
        assertThat(data.getInt(4)).as("nothing after the fault").isZero();
    }

    @Test
    void fetchingFromAnUnmappedBatchFaultsInsideTheBatch() {
        ring.emit(Cmd.bbStart(GBATCH + 0x1000, false, false));
        Completion c = ring.run(Engine.VECS, 0);
        assertThat(c.error()).get().isInstanceOfSatisfying(EngineError.PageFault.class, e -> {
            assertThat(e.command()).isEqualTo("(fetch)");
            assertThat(e.fault().address()).isEqualTo(GBATCH + 0x1000);
            assertThat(e.where().buffer()).isEqualTo(Location.Buffer.FIRST_LEVEL_BATCH);
            assertThat(e.where().space()).isEqualTo(GpuAddressSpace.GGTT);
        });
    }

    @Test
    void unknownOpcodesAndWrongEngineCommandsStopTheEngine() {
        ring.emit(Cmd.sdi(true, DATA, 1)).emit(0x3F << 23); // MI opcode 0x3F is not a command
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.error()).get().isInstanceOfSatisfying(EngineError.UnknownCommand.class, e -> {
            assertThat(e.header()).isEqualTo(0x3F << 23);
            assertThat(e.where().address()).isEqualTo(RING + 16);
        });
        assertThat(c.head()).isEqualTo(16);

        int head = ring.tail = 0x100;
        ring.emit(Cmd.colorBlt(DATA, 64, 0, 0, 1, 1, 0, true, true));
        Completion onRender = ring.run(Engine.RCS, head);
        assertThat(onRender.error()).get().isInstanceOfSatisfying(EngineError.UnknownCommand.class,
                e -> assertThat(e.elsewhere()).isEqualTo("XY_COLOR_BLT"));
        assertThat(data.getInt(0)).isEqualTo(1);
    }

    @Test
    void withoutAPpgttThePpgttBitAndNonGlobalStoresUseTheGgtt() {
        GpuMemory.Surface gb = mem.ggtt(GBATCH, 1);
        put(gb, 0, Cmd.sdi(false, DATA + 0x30, 9), new int[] {Cmd.BB_END});
        ring.emit(Cmd.bbStart(GBATCH, true, false));
        if ((ring.tail & 7) != 0) {
            ring.emit(Cmd.NOOP);
        }
        Completion c = mem.engines.submit(Submission.of(Engine.RCS, RING, 8192, 0, ring.tail, GpuAddressSpace.GGTT));
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(data.getInt(0x30)).isEqualTo(9);
    }

    @Test
    void aRingOnAnUnmappedGgttPageFaultsAtTheFetch() {
        Completion c = mem.engines.submit(Submission.of(Engine.BCS, 0x70_0000, 4096, 0x20, 0x40, mem.ppgtt));
        assertThat(c.error()).get().isInstanceOfSatisfying(EngineError.PageFault.class, e -> {
            assertThat(e.command()).isEqualTo("(fetch)");
            assertThat(e.fault().address()).isEqualTo(0x70_0020);
            assertThat(e.where().buffer()).isEqualTo(Location.Buffer.RING);
        });
        assertThat(c.head()).isEqualTo(0x20);
    }
}
