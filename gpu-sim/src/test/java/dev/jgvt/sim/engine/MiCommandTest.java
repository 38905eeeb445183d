package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.cmd.CommandDef;
import dev.jgvt.core.cmd.CommandTable;
import dev.jgvt.core.hw.Engine;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class MiCommandTest {
    private static final long RING = 0x10_0000;
    private static final long DATA = 0x20_0000;
    private static final long PDATA = 0x7_0000_3000L;

    private final GpuMemory mem = new GpuMemory();
    private final GpuMemory.Ring ring = mem.ring(RING, 4096, 0);
    private final GpuMemory.Surface ggtt = mem.ggtt(DATA, 2);
    private final GpuMemory.Surface ppgtt = mem.ppgtt(PDATA, 2);

    @AfterEach
    void close() {
        mem.close();
    }

    @Test
    void emptySliceCompletesWithNothingExecuted() {
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.completed()).isTrue();
        assertThat(c.commands()).isZero();
        assertThat(c.head()).isZero();
    }

    @Test
    void noopAndArbCheckHaveNoEffectAndHeadReachesTail() {
        ring.emit(Cmd.NOOP, Cmd.ARB_CHECK, Cmd.NOOP, Cmd.ARB_CHECK);
        Completion c = ring.run(Engine.VECS, 0);
        assertThat(c.completed()).isTrue();
        assertThat(c.commands()).isEqualTo(4);
        assertThat(c.head()).isEqualTo(16);
        assertThat(c.events()).isEmpty();
    }

    @Test
    void storeDataImmWritesDwordsAndQwordsInGgttAndPpgtt() {
        ring.emit(Cmd.sdi(true, DATA + 0x10, 0xDEAD_BEEF))
                .emit(Cmd.sdi(true, DATA + 0xFF8, 0x1111_2222, 0x3333_4444))
                .emit(Cmd.sdi(false, PDATA + 0x1004, 0x5555_6666))
                .emit(Cmd.sdi(false, PDATA + 0x20, 0x7777_8888, 0x9999_AAAA));
        Completion c = ring.run(Engine.BCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(ggtt.getInt(0x10)).isEqualTo(0xDEAD_BEEF);
        assertThat(ggtt.getLong(0xFF8)).isEqualTo(0x3333_4444_1111_2222L);
        assertThat(ppgtt.getInt(0x1004)).isEqualTo(0x5555_6666);
        assertThat(ppgtt.getLong(0x20)).isEqualTo(0x9999_AAAA_7777_8888L);
        assertThat(ggtt.getInt(0x20)).as("PPGTT store did not land in the GGTT").isZero();
    }

    @Test
    void loadRegisterImmThenStoreRegisterMemRoundTripsPerEngine() {
        ring.emit(Cmd.lri(0x2340, 0xCAFE_0001, 0x2344, 0xCAFE_0002))
                .emit(Cmd.srm(true, 0x2344, DATA))
                .emit(Cmd.srm(false, 0x2340, PDATA + 8))
                .emit(Cmd.srm(true, 0x2348, DATA + 4));
        ggtt.setInt(4, -1);
        assertThat(ring.run(Engine.RCS, 0).completed()).isTrue();
        assertThat(ggtt.getInt(0)).isEqualTo(0xCAFE_0002);
        assertThat(ppgtt.getInt(8)).isEqualTo(0xCAFE_0001);
        assertThat(ggtt.getInt(4)).as("never-written register reads 0").isZero();
        assertThat(mem.engines.readRegister(Engine.RCS, 0x2340)).isEqualTo(0xCAFE_0001);
        assertThat(mem.engines.readRegister(Engine.BCS, 0x2340)).as("register files are per engine").isZero();

        // The register file persists across submissions; LRM / LRR move values through it.
        int head = ring.tail;
        ggtt.setInt(0x100, 0x0BAD_F00D);
        ring.emit(Cmd.lrm(true, 0x2350, DATA + 0x100)).emit(Cmd.lrr(0x2350, 0x2354)).emit(Cmd.srm(true, 0x2354, DATA + 0x104))
                .emit(Cmd.srm(true, 0x2340, DATA + 0x108));
        assertThat(ring.run(Engine.RCS, head).completed()).isTrue();
        assertThat(ggtt.getInt(0x104)).isEqualTo(0x0BAD_F00D);
        assertThat(ggtt.getInt(0x108)).isEqualTo(0xCAFE_0001);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void registerFileHoldsManyRegisters(long seed) {
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        int[] offsets = random.ints(300, 0, 0x7FFFFC / 4).distinct().map(i -> i * 4).toArray();
        int[] values = random.ints(offsets.length).toArray();
        for (int i = 0; i < offsets.length; i++) {
            mem.engines.writeRegister(Engine.VCS, offsets[i], values[i]);
        }
        for (int i = 0; i < offsets.length; i++) {
            assertThat(mem.engines.readRegister(Engine.VCS, offsets[i])).isEqualTo(values[i]);
        }
    }

    @Test
    void flushDwPostSyncWritesAndNotifies() {
        ring.emit(Cmd.flushDw(true, DATA + 0x40, false, 0x1234_5678))
                .emit(Cmd.flushDw(false, PDATA + 0x48, true, 0x0A0B_0C0D, 0x0E0F_1011))
                .emit(Cmd.flushDwNotifyOnly());
        Completion c = ring.run(Engine.VCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(ggtt.getInt(0x40)).isEqualTo(0x1234_5678);
        assertThat(ppgtt.getLong(0x48)).isEqualTo(0x0E0F_1011_0A0B_0C0DL);
        assertThat(c.events()).extracting(EngineEvent::kind)
                .containsExactly(EngineEvent.Kind.FLUSH_DW_NOTIFY, EngineEvent.Kind.FLUSH_DW_NOTIFY);
    }

    @Test
    void pipeControlPostSyncAndNotifyAndUserInterruptsAreRecordedInOrder() {
        ring.emit(Cmd.USER_INTERRUPT)
                .emit(Cmd.pipeControl(true, DATA + 0x80, true, 0x0102_0304_0506_0708L))
                .emit(Cmd.pipeControl(false, PDATA + 0x88, false, 42))
                .emit(Cmd.USER_INTERRUPT);
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(ggtt.getLong(0x80)).isEqualTo(0x0102_0304_0506_0708L);
        assertThat(ppgtt.getLong(0x88)).isEqualTo(42);
        assertThat(c.events()).extracting(EngineEvent::kind).containsExactly(EngineEvent.Kind.USER_INTERRUPT,
                EngineEvent.Kind.PIPE_CONTROL_NOTIFY, EngineEvent.Kind.USER_INTERRUPT);
        assertThat(c.events().get(1).where().address()).isEqualTo(RING + 4);
        assertThat(c.userInterrupts()).isEqualTo(2);
    }

    /** Every command of an engine's table that the engine does not execute is decoded by length and skipped. */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 12, 13, 14, 15, 16, 17, 18})
    void stateCommandsAreSkippedByTheirTableLength(long seed) {
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        Engine engine = List.of(Engine.RCS, Engine.BCS, Engine.VCS, Engine.VECS).get(random.nextInt(4));
        Set<String> executed = Set.of("MI_BATCH_BUFFER_START", "MI_BATCH_BUFFER_END", "MI_STORE_DATA_IMM",
                "MI_LOAD_REGISTER_IMM", "MI_STORE_REGISTER_MEM", "MI_LOAD_REGISTER_MEM", "MI_LOAD_REGISTER_REG",
                "MI_FLUSH_DW", "MI_USER_INTERRUPT", "PIPE_CONTROL", "XY_COLOR_BLT", "XY_SRC_COPY_BLT",
                "MI_MATH", "MI_CONDITIONAL_BATCH_BUFFER_END");
        List<CommandDef> state = CommandTable.gen9().rows().stream()
                .filter(d -> d.legalOn(engine) && !executed.contains(d.name())).toList();
        int expected = 0;
        for (int i = 0; i < 40; i++) {
            CommandDef def = state.get(random.nextInt(state.size()));
            int len = def.lengthBits() == 0 || def.fixedLength() != 0 ? Math.max(def.fixedLength(), 1)
                    : 2 + random.nextInt(Math.min(def.maxLength(), 12) - 1);
            int[] c = new int[len];
            c[0] = def.header(len);
            for (int k = 1; k < len; k++) {
                c[k] = 0xFFFF_FFFF; // would be a garbage header if the length were wrong
            }
            ring.emit(c);
            expected++;
        }
        ring.emit(Cmd.sdi(true, DATA + 0x200, (int) seed));
        Completion c = ring.run(engine, 0);
        assertThat(c.completed()).as(engine + ": " + c).isTrue();
        assertThat(c.commands()).isGreaterThanOrEqualTo(expected + 1);
        assertThat(ggtt.getInt(0x200)).isEqualTo((int) seed);
    }

    @Test
    void hwspRelativeAndMmioPostSyncWritesAreIllegalCommandsNotSilentWrites() {
        int[] flush = Cmd.flushDw(true, 0x40, false, 1);
        flush[0] |= 1 << 21;
        ring.emit(flush);
        assertThat(ring.run(Engine.BCS, 0).error()).get().isInstanceOfSatisfying(EngineError.IllegalCommand.class,
                e -> assertThat(e.command()).isEqualTo("MI_FLUSH_DW"));
        int head = ring.tail;
        int[] pc = Cmd.pipeControl(true, 0x40, false, 1);
        pc[1] |= 1 << 21;
        ring.emit(pc);
        assertThat(ring.run(Engine.RCS, head).error()).get().isInstanceOfSatisfying(EngineError.IllegalCommand.class,
                e -> assertThat(e.reason()).contains("store data index"));
        head = ring.tail;
        int[] mmio = Cmd.pipeControl(true, 0x40, false, 1);
        mmio[1] = 1 << 23;
        ring.emit(mmio);
        assertThat(ring.run(Engine.RCS, head).error()).get().isInstanceOf(EngineError.IllegalCommand.class);
    }

    @Test
    void timestampPostSyncWritesAnIncreasingQword() {
        int[] pc = Cmd.pipeControl(true, DATA + 0x300, false, 0);
        pc[1] |= 3 << 14;
        ring.emit(pc).emit(Cmd.NOOP, Cmd.NOOP).emit(pc.clone());
        ring.surface.setInt(ring.tail - 24 + 8, (int) (DATA + 0x308));
        Completion c = ring.run(Engine.RCS, 0);
        assertThat(c.completed()).as(c.toString()).isTrue();
        assertThat(ggtt.getLong(0x308)).isGreaterThan(ggtt.getLong(0x300)).isPositive();
    }
}
