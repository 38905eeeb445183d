package dev.jgvt.core.irq;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

final class VirtualInterruptsTest {
    private int msis;
    private VirtualInterrupts irq;

    @BeforeEach
    void setUp() {
        irq = new VirtualInterrupts(() -> msis++);
    }

    private void enable(IrqEvent event) {
        int base = event.group().base();
        irq.write(base + IrqGroup.IMR, ~(1 << event.bit()));
        irq.write(base + IrqGroup.IER, 1 << event.bit());
    }

    @Test
    void powerOnEverythingIsMasked() {
        for (IrqGroup g : IrqGroup.values()) {
            assertThat(irq.read(g.base() + IrqGroup.IMR)).isEqualTo(0xFFFFFFFF);
            assertThat(irq.read(g.base() + IrqGroup.IER)).isZero();
        }
        irq.raise(IrqEvent.RCS_USER_INTERRUPT);
        assertThat(irq.read(0x44308)).isZero();
        assertThat(irq.read(0x44300)).isEqualTo(1); // ISR shows it
        assertThat(msis).isZero();
    }

    @ParameterizedTest
    @EnumSource(IrqEvent.class)
    void eachEventLatchesItsBitAndSetsItsMasterSummary(IrqEvent event) {
        irq.write(VirtualInterrupts.MASTER, VirtualInterrupts.MASTER_ENABLE);
        enable(event);
        irq.raise(event);
        assertThat(irq.read(event.group().base() + IrqGroup.IIR)).isEqualTo(1 << event.bit());
        int expectedMasterBit = switch (event.group()) {
            case GT0 -> event.bit() < 16 ? 0 : 1;
            case GT1 -> event.bit() < 16 ? 2 : 3;
            case GT2 -> 4;
            case GT3 -> 6;
            case DE_PIPE_A -> 16;
            case DE_PIPE_B -> 17;
            case DE_PIPE_C -> 18;
            case DE_PORT -> 20;
            case DE_MISC -> 22;
            case PCU -> 30;
        };
        assertThat(irq.master()).isEqualTo(VirtualInterrupts.MASTER_ENABLE | (1 << expectedMasterBit));
        assertThat(msis).isEqualTo(1);
        irq.write(event.group().base() + IrqGroup.IIR, 1 << event.bit());
        assertThat(irq.master()).isEqualTo(VirtualInterrupts.MASTER_ENABLE);
        assertThat(irq.read(event.group().base() + IrqGroup.ISR)).isZero();
    }

    @Test
    void disabledButUnmaskedEventsLatchWithoutInterrupting() {
        irq.write(VirtualInterrupts.MASTER, VirtualInterrupts.MASTER_ENABLE);
        irq.write(0x44304, 0); // unmask everything, IER still 0
        irq.raise(IrqEvent.BCS_CONTEXT_SWITCH);
        assertThat(irq.read(0x44308)).isEqualTo(1 << 24);
        assertThat(msis).isZero();
        irq.write(0x4430C, 1 << 24); // enabling a latched bit interrupts
        assertThat(msis).isEqualTo(1);
        assertThat(irq.master() & (1 << 1)).isNotZero();
    }

    @Test
    void masterSummaryBitsAreDeviceOwned() {
        irq.write(VirtualInterrupts.MASTER, 0xFFFFFFFF);
        assertThat(irq.master()).isEqualTo(VirtualInterrupts.MASTER_ENABLE);
        irq.write(0x44300, 0xFFFF); // ISR is read-only
        assertThat(irq.read(0x44300)).isZero();
        assertThat(msis).isZero();
    }

    @Test
    void iirIsWriteOneToClearPerBit() {
        irq.write(0x44304, 0);
        irq.write(0x4430C, -1);
        irq.raise(IrqEvent.RCS_USER_INTERRUPT);
        irq.raise(IrqEvent.RCS_CONTEXT_SWITCH);
        irq.write(0x44308, 1);
        assertThat(irq.read(0x44308)).isEqualTo(1 << 8);
        assertThat(irq.master() & 1).isEqualTo(1);
    }

    @Test
    void resetReturnsToPowerOn() {
        irq.write(VirtualInterrupts.MASTER, VirtualInterrupts.MASTER_ENABLE);
        enable(IrqEvent.PIPE_A_VBLANK);
        irq.raise(IrqEvent.PIPE_A_VBLANK);
        irq.reset();
        assertThat(irq.master()).isZero();
        assertThat(irq.read(0x44408)).isZero();
        assertThat(irq.read(0x44404)).isEqualTo(0xFFFFFFFF);
        assertThat(irq.read(0x12345)).isZero();
        assertThat(VirtualInterrupts.handles(0x44200)).isTrue();
        assertThat(VirtualInterrupts.handles(0x44450)).isFalse();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {5, 77, 4242})
    void interruptIsRaisedExactlyWhenPendingEnabledAndMasterOn(long seed) {
        System.out.println("VirtualInterruptsTest seed " + seed);
        Random random = new Random(seed);
        IrqEvent[] events = IrqEvent.values();
        for (int step = 0; step < 2000; step++) {
            int before = msis;
            IrqGroup g = IrqGroup.values()[random.nextInt(IrqGroup.values().length)];
            switch (random.nextInt(5)) {
                case 0 -> irq.write(g.base() + IrqGroup.IMR, random.nextInt());
                case 1 -> irq.write(g.base() + IrqGroup.IER, random.nextInt());
                case 2 -> irq.write(g.base() + IrqGroup.IIR, random.nextInt());
                case 3 -> irq.write(VirtualInterrupts.MASTER, random.nextInt());
                default -> irq.raise(events[random.nextInt(events.length)]);
            }
            boolean pending = false;
            for (IrqGroup group : IrqGroup.values()) {
                pending |= (irq.read(group.base() + IrqGroup.IIR) & irq.read(group.base() + IrqGroup.IER)) != 0;
            }
            assertThat((irq.master() & ~VirtualInterrupts.MASTER_ENABLE) != 0).isEqualTo(pending);
            if (msis > before) {
                assertThat(pending && (irq.master() & VirtualInterrupts.MASTER_ENABLE) != 0).isTrue();
            }
        }
    }
}
