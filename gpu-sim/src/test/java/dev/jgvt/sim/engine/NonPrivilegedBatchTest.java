package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What makes leaving PPGTT batches unscanned safe (decision 0014): a non-privileged batch cannot reach the GGTT,
 * the status page or a register outside the user-mode list, and cannot start a privileged (GGTT) batch. Each
 * privileged use is dropped as MI_NOOP and reported as a {@link EngineEvent.Kind#PRIVILEGE_VIOLATION}; the same
 * command from the ring or a GGTT batch takes effect (so every case can fail).
 */
final class NonPrivilegedBatchTest {
    private static final long RING = 0x10_0000;
    private static final long DATA = 0x20_0000;
    private static final long GBATCH = 0x30_0000;
    private static final long PBATCH = 0x1_0000_0000L;
    private static final long PBATCH2 = 0x2_0000_0000L;
    private static final long PDATA = 0x3_0000_0000L;
    private static final int MARK = 0x5A5A_0001;

    private final GpuMemory mem = new GpuMemory();
    private final GpuMemory.Ring ring = mem.ring(RING, 8192, 0);
    private final GpuMemory.Surface data = mem.ggtt(DATA, 1);
    private final GpuMemory.Surface pdata = mem.ppgtt(PDATA, 1);
    private final GpuMemory.Surface pb = mem.ppgtt(PBATCH, 1);
    private final GpuMemory.Surface gb = mem.ggtt(GBATCH, 1);

    @AfterEach
    void close() {
        mem.close();
    }

    private static void put(GpuMemory.Surface s, int[]... commands) {
        int offset = 0;
        for (int[] c : commands) {
            for (int d : c) {
                s.setInt(offset, d);
                offset += 4;
            }
        }
    }

    /** Runs {@code commands} once from a PPGTT batch and returns the completion. */
    private Completion fromPpgttBatch(Engine engine, int[]... commands) {
        int[][] all = java.util.Arrays.copyOf(commands, commands.length + 1);
        all[commands.length] = new int[] {Cmd.BB_END};
        put(pb, all);
        ring.emit(Cmd.bbStart(PBATCH, true, false));
        Completion c = ring.run(engine, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        return c;
    }

    private Completion fromGgttBatch(Engine engine, int[]... commands) {
        int[][] all = java.util.Arrays.copyOf(commands, commands.length + 1);
        all[commands.length] = new int[] {Cmd.BB_END};
        put(gb, all);
        ring.emit(Cmd.bbStart(GBATCH, false, false));
        Completion c = ring.run(engine, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        return c;
    }

    private static List<EngineEvent.Kind> kinds(Completion c) {
        return c.events().stream().map(EngineEvent::kind).toList();
    }

    @Test
    void ggttStoresFromAPpgttBatchAreDroppedAndReported() {
        Completion c = fromPpgttBatch(Engine.RCS, Cmd.sdi(true, DATA, MARK), Cmd.pipeControl(true, DATA + 16, false, MARK),
                Cmd.sdi(false, PDATA, MARK + 1), Cmd.pipeControl(false, PDATA + 8, false, MARK + 1));
        assertThat(data.getInt(0)).isZero();
        assertThat(data.getInt(16)).isZero();
        assertThat(pdata.getInt(0)).as("a PPGTT store of the same batch").isEqualTo(MARK + 1);
        assertThat(pdata.getInt(8)).as("a PPGTT post-sync write of the same batch").isEqualTo(MARK + 1);
        assertThat(kinds(c)).containsExactly(EngineEvent.Kind.PRIVILEGE_VIOLATION, EngineEvent.Kind.PRIVILEGE_VIOLATION);
    }

    @Test
    void theSameStoresFromAGgttBatchTakeEffect() {
        Completion c = fromGgttBatch(Engine.RCS, Cmd.sdi(true, DATA, MARK), Cmd.pipeControl(true, DATA + 16, false, MARK));
        assertThat(data.getInt(0)).isEqualTo(MARK);
        assertThat(data.getInt(16)).isEqualTo(MARK);
        assertThat(kinds(c)).doesNotContain(EngineEvent.Kind.PRIVILEGE_VIOLATION);
    }

    @Test
    void flushDwPostSyncToTheGgttFromAPpgttBatchIsDropped() {
        Completion c = fromPpgttBatch(Engine.BCS, Cmd.flushDw(true, DATA, false, MARK), Cmd.flushDw(false, PDATA, false, MARK));
        assertThat(data.getInt(0)).isZero();
        assertThat(pdata.getInt(0)).isEqualTo(MARK);
        assertThat(kinds(c)).containsExactly(EngineEvent.Kind.PRIVILEGE_VIOLATION);
    }

    @Test
    void registerWritesOutsideTheUserModeListDropTheWholeCommand() {
        int ringStart = Engine.RCS.mmioBase() + 0x38; // RING_START: privileged
        int gpr0 = Engine.RCS.mmioBase() + 0x600;
        Completion c = fromPpgttBatch(Engine.RCS, Cmd.lri(gpr0, 7, ringStart, 0xFFFF_FFFF), Cmd.lri(gpr0 + 8, 9));
        assertThat(mem.engines.readRegister(Engine.RCS, ringStart)).isZero();
        assertThat(mem.engines.readRegister(Engine.RCS, gpr0)).as("the allowed half of a dropped LRI").isZero();
        assertThat(mem.engines.readRegister(Engine.RCS, gpr0 + 8)).as("an LRI of GPRs only").isEqualTo(9);
        assertThat(kinds(c)).containsExactly(EngineEvent.Kind.PRIVILEGE_VIOLATION);
    }

    @Test
    void theSameRegisterWriteFromTheRingTakesEffect() {
        int ringStart = Engine.RCS.mmioBase() + 0x38; // RING_START: privileged
        ring.emit(Cmd.lri(ringStart, 0x1234));
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.completed()).isTrue();
        assertThat(mem.engines.readRegister(Engine.RCS, ringStart)).isEqualTo(0x1234);
    }

    @Test
    void blitterSwctrlIsAUserRegisterOnTheBlitterOnly() {
        Completion bcs = fromPpgttBatch(Engine.BCS, Cmd.lri(BlitCommands.BCS_SWCTRL, 0x30003));
        assertThat(mem.engines.readRegister(Engine.BCS, BlitCommands.BCS_SWCTRL)).isNotZero();
        assertThat(kinds(bcs)).isEmpty();
    }

    @Test
    void registerMemoryTransfersNeedAUserRegisterAndThePpgtt() {
        int gpr1 = Engine.VCS.mmioBase() + 0x608;
        int ringStart = Engine.VCS.mmioBase() + 0x38;
        mem.engines.writeRegister(Engine.VCS, ringStart, 0x7777_0000);
        pdata.setInt(0x100, 42);
        data.setInt(0x100, 43);
        Completion c = fromPpgttBatch(Engine.VCS,
                Cmd.lrm(false, gpr1, PDATA + 0x100), // allowed: PPGTT into a GPR
                Cmd.srm(false, gpr1, PDATA + 0x200), // allowed
                Cmd.lrm(true, gpr1 + 8, DATA + 0x100), // GGTT read: dropped
                Cmd.srm(true, gpr1, DATA + 0x200), // GGTT write: dropped
                Cmd.srm(false, ringStart, PDATA + 0x300), // privileged register read: dropped
                Cmd.lrm(false, ringStart, PDATA + 0x100), // privileged register write: dropped
                Cmd.lrr(ringStart, gpr1 + 16), // privileged source: dropped
                Cmd.lrr(gpr1, ringStart)); // privileged destination: dropped
        assertThat(mem.engines.readRegister(Engine.VCS, gpr1)).isEqualTo(42);
        assertThat(pdata.getInt(0x200)).isEqualTo(42);
        assertThat(mem.engines.readRegister(Engine.VCS, gpr1 + 8)).isZero();
        assertThat(data.getInt(0x200)).isZero();
        assertThat(pdata.getInt(0x300)).isZero();
        assertThat(mem.engines.readRegister(Engine.VCS, ringStart)).isEqualTo(0x7777_0000);
        assertThat(mem.engines.readRegister(Engine.VCS, gpr1 + 16)).isZero();
        assertThat(kinds(c)).containsExactly(EngineEvent.Kind.PRIVILEGE_VIOLATION, EngineEvent.Kind.PRIVILEGE_VIOLATION,
                EngineEvent.Kind.PRIVILEGE_VIOLATION, EngineEvent.Kind.PRIVILEGE_VIOLATION,
                EngineEvent.Kind.PRIVILEGE_VIOLATION, EngineEvent.Kind.PRIVILEGE_VIOLATION);
    }

    @Test
    void aBatchStartedFromAPpgttBatchStaysInThePpgttWhateverItsAddressSpaceBitSays() {
        // The same address holds a privileged batch in the GGTT (a store to the GGTT) and a harmless one in the
        // PPGTT (a store to PPGTT memory): chaining with the GGTT indicator from a PPGTT batch must run the latter.
        GpuMemory.Surface gTarget = mem.ggtt(PBATCH2 & 0xFFFF_FFFFL | 0x40_0000, 1);
        long target = gTarget.address();
        GpuMemory.Surface pTarget = mem.ppgtt(target, 1);
        put(gTarget, Cmd.sdi(true, DATA, MARK), new int[] {Cmd.BB_END});
        put(pTarget, Cmd.sdi(false, PDATA, MARK + 2), new int[] {Cmd.BB_END});
        put(pb, Cmd.bbStart(target, false, false));
        ring.emit(Cmd.bbStart(PBATCH, true, false));
        Completion chained = ring.run(Engine.RCS, 0);
        assertThat(chained.completed()).as(chained.toString()).isTrue();
        assertThat(data.getInt(0)).as("the GGTT batch never ran").isZero();
        assertThat(pdata.getInt(0)).isEqualTo(MARK + 2);

        // and as a second-level call, returning into the PPGTT batch
        pdata.setInt(0, 0);
        put(pb, Cmd.bbStart(target, false, true), Cmd.sdi(false, PDATA + 4, MARK + 3), new int[] {Cmd.BB_END});
        int head = ring.tail;
        ring.emit(Cmd.bbStart(PBATCH, true, false));
        Completion called = ring.run(Engine.RCS, head);
        assertThat(called.completed()).as(called.toString()).isTrue();
        assertThat(data.getInt(0)).isZero();
        assertThat(pdata.getInt(0)).isEqualTo(MARK + 2);
        assertThat(pdata.getInt(4)).isEqualTo(MARK + 3);
    }

    @Test
    void aPrivilegedBatchMayStillCallAPpgttBatchAndIsPrivilegedAgainAfterIt() {
        GpuMemory.Surface second = mem.ppgtt(PBATCH2, 1);
        put(second, Cmd.sdi(true, DATA, MARK), new int[] {Cmd.BB_END});
        put(gb, Cmd.bbStart(PBATCH2, true, true), Cmd.sdi(true, DATA + 4, MARK + 4), new int[] {Cmd.BB_END});
        ring.emit(Cmd.bbStart(GBATCH, false, false));
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(data.getInt(0)).as("the PPGTT second-level batch's GGTT store").isZero();
        assertThat(data.getInt(4)).as("the GGTT first-level batch after the return").isEqualTo(MARK + 4);
        assertThat(kinds(c)).containsExactly(EngineEvent.Kind.PRIVILEGE_VIOLATION);
    }

    @Test
    void aConditionalEndReadingTheGgttFromAPpgttBatchDoesNotEndIt() {
        data.setInt(0x80, 0); // would end the batch (0 <= 0)
        Completion c = fromPpgttBatch(Engine.RCS, new int[] {0x36 << 23 | 1 << 22 | 1, 0, Cmd.lo(DATA + 0x80)},
                Cmd.sdi(false, PDATA, MARK + 5));
        assertThat(pdata.getInt(0)).isEqualTo(MARK + 5);
        assertThat(kinds(c)).containsExactly(EngineEvent.Kind.PRIVILEGE_VIOLATION);
    }
}
