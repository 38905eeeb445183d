package dev.jgvt.core.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.RegisterRegistry;
import dev.jgvt.core.mmio.UnshadowedGgttWindow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Context-status events in the hardware's order, in the registers and mirrored into the status page. */
final class VirtualExeclistTest {
    private static final Engine E = Engine.BCS;
    private static final int IDLE_TO_ACTIVE = VirtualExeclist.IDLE_TO_ACTIVE;
    private static final int DONE = VirtualExeclist.ACTIVE_TO_IDLE | VirtualExeclist.CONTEXT_COMPLETE;

    private MmioSpace mmio;
    private final Map<Integer, Integer> hwsp = new HashMap<>();
    private int interrupts;
    private VirtualExeclist execlist;

    @BeforeEach
    void setUp() {
        mmio = new MmioSpace(RegisterRegistry.gen9(), new UnshadowedGgttWindow(MmioSpace.GGTT_WINDOW_SIZE), "test");
        execlist = new VirtualExeclist(E, mmio, new VirtualExeclist.Sink() {
            @Override
            public void hwspWrite(Engine engine, int index, int value) {
                hwsp.put(index, value);
            }

            @Override
            public void contextSwitch(Engine engine) {
                interrupts++;
            }
        });
        execlist.reset();
    }

    private int writePointer() {
        return mmio.get(E.mmioBase() + Gen9Registers.RING_CSB_PTR) & 7;
    }

    /** Entries from the register copy, oldest first, checking the status-page mirror agrees. */
    private List<int[]> entries() {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i <= writePointer() && writePointer() < 6; i++) {
            int status = mmio.get(E.mmioBase() + Gen9Registers.RING_CSB + 8 * i);
            int id = mmio.get(E.mmioBase() + Gen9Registers.RING_CSB + 8 * i + 4);
            assertThat(hwsp.get(VirtualExeclist.HWSP_CSB + 2 * i)).isEqualTo(status);
            assertThat(hwsp.get(VirtualExeclist.HWSP_CSB + 2 * i + 1)).isEqualTo(id);
            out.add(new int[] {status, id});
        }
        assertThat(hwsp.get(VirtualExeclist.HWSP_CSB_WRITE_POINTER)).isEqualTo(writePointer());
        return out;
    }

    @Test
    void resetLeavesTheWritePointerAtSevenAndTheEngineIdle() {
        assertThat(writePointer()).isEqualTo(7);
        assertThat(execlist.idle()).isTrue();
        assertThat(mmio.get(E.mmioBase() + Gen9Registers.RING_EXECLIST_STATUS)).isZero();
    }

    @Test
    void aSingleContextGoesIdleToActiveThenActiveToIdleWithComplete() {
        execlist.scheduleIn(new VirtualExeclist.Slot(5));
        assertThat(mmio.get(E.mmioBase() + Gen9Registers.RING_EXECLIST_STATUS + 4)).isEqualTo(5);
        execlist.scheduleOut();
        assertThat(entries()).containsExactly(new int[] {IDLE_TO_ACTIVE, 0}, new int[] {DONE, 5});
        assertThat(interrupts).isEqualTo(2);
        assertThat(execlist.idle()).isTrue();
    }

    @Test
    void twoElementsSwitchThenGoIdle() {
        execlist.scheduleIn(new VirtualExeclist.Slot(1, 2));
        execlist.scheduleOut();
        assertThat(execlist.runningContext()).isEqualTo(2);
        execlist.scheduleOut();
        assertThat(entries()).containsExactly(new int[] {IDLE_TO_ACTIVE, 0},
                new int[] {VirtualExeclist.ELEMENT_SWITCH | VirtualExeclist.CONTEXT_COMPLETE, 1}, new int[] {DONE, 2});
    }

    @Test
    void resubmittingTheRunningContextIsALiteRestore() {
        execlist.scheduleIn(new VirtualExeclist.Slot(7));
        execlist.scheduleIn(new VirtualExeclist.Slot(7));
        assertThat(entries().get(1)).containsExactly(VirtualExeclist.LITE_RESTORE | VirtualExeclist.PREEMPTED, 7);
        execlist.scheduleOut();
        assertThat(execlist.idle()).isTrue();
    }

    @Test
    void aSecondSubmissionWaitsAsPendingAndStartsWhenTheFirstEnds() {
        execlist.scheduleIn(new VirtualExeclist.Slot(1));
        execlist.scheduleIn(new VirtualExeclist.Slot(2));
        assertThat(execlist.full()).isTrue();
        execlist.scheduleOut();
        assertThat(execlist.runningContext()).isEqualTo(2);
        execlist.scheduleOut();
        assertThat(entries()).containsExactly(new int[] {IDLE_TO_ACTIVE, 0}, new int[] {DONE, 1},
                new int[] {IDLE_TO_ACTIVE, 0}, new int[] {DONE, 2});
    }

    @Test
    void theWritePointerWrapsAfterSixEntries() {
        for (int i = 0; i < 4; i++) {
            execlist.scheduleIn(new VirtualExeclist.Slot(i));
            execlist.scheduleOut();
        }
        assertThat(writePointer()).isEqualTo(1); // 8 entries: 0..5, then 0, 1
        assertThat(mmio.get(E.mmioBase() + Gen9Registers.RING_CSB + 8)).isEqualTo(DONE);
        assertThat(mmio.get(E.mmioBase() + Gen9Registers.RING_CSB + 12)).isEqualTo(3);
    }

    @Test
    void scheduleOutWhileIdleEmitsNothing() {
        execlist.scheduleOut();
        assertThat(interrupts).isZero();
        assertThat(writePointer()).isEqualTo(7);
    }
}
