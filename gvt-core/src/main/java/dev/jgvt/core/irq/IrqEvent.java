package dev.jgvt.core.irq;

import dev.jgvt.core.hw.Engine;

/** Interrupt events a Gen9 vGPU can raise, with the group and bit they set (Skylake layout). */
public enum IrqEvent {
    RCS_USER_INTERRUPT(IrqGroup.GT0, 0),
    RCS_PIPE_CONTROL_NOTIFY(IrqGroup.GT0, 4),
    RCS_CONTEXT_SWITCH(IrqGroup.GT0, 8),
    BCS_USER_INTERRUPT(IrqGroup.GT0, 16),
    BCS_MI_FLUSH_DW(IrqGroup.GT0, 20),
    BCS_CONTEXT_SWITCH(IrqGroup.GT0, 24),
    VCS0_USER_INTERRUPT(IrqGroup.GT1, 0),
    VCS0_MI_FLUSH_DW(IrqGroup.GT1, 4),
    VCS0_CONTEXT_SWITCH(IrqGroup.GT1, 8),
    VCS1_USER_INTERRUPT(IrqGroup.GT1, 16),
    VCS1_MI_FLUSH_DW(IrqGroup.GT1, 20),
    VCS1_CONTEXT_SWITCH(IrqGroup.GT1, 24),
    VECS_USER_INTERRUPT(IrqGroup.GT3, 0),
    VECS_MI_FLUSH_DW(IrqGroup.GT3, 4),
    VECS_CONTEXT_SWITCH(IrqGroup.GT3, 8),
    PIPE_A_VBLANK(IrqGroup.DE_PIPE_A, 0),
    PIPE_A_PRIMARY_FLIP_DONE(IrqGroup.DE_PIPE_A, 3),
    PIPE_A_SPRITE_FLIP_DONE(IrqGroup.DE_PIPE_A, 4),
    PIPE_B_VBLANK(IrqGroup.DE_PIPE_B, 0),
    PIPE_B_PRIMARY_FLIP_DONE(IrqGroup.DE_PIPE_B, 3),
    PIPE_C_VBLANK(IrqGroup.DE_PIPE_C, 0),
    PIPE_C_PRIMARY_FLIP_DONE(IrqGroup.DE_PIPE_C, 3),
    AUX_CHANNEL_A(IrqGroup.DE_PORT, 0),
    DP_A_HOTPLUG(IrqGroup.DE_PORT, 3),
    AUX_CHANNEL_B(IrqGroup.DE_PORT, 25),
    AUX_CHANNEL_C(IrqGroup.DE_PORT, 26),
    AUX_CHANNEL_D(IrqGroup.DE_PORT, 27),
    PCU_THERMAL(IrqGroup.PCU, 24),
    PCU_PCODE_MAILBOX(IrqGroup.PCU, 25);

    private final IrqGroup group;
    private final int bit;

    IrqEvent(IrqGroup group, int bit) {
        this.group = group;
        this.bit = bit;
    }

    public IrqGroup group() {
        return group;
    }

    /** The bit number within the group's registers. */
    public int bit() {
        return bit;
    }

    /** {@code engine}'s user interrupt (MI_USER_INTERRUPT). */
    public static IrqEvent userInterrupt(Engine engine) {
        return ByEngine.USER[engine.ordinal()];
    }

    /** {@code engine}'s notify interrupt: PIPE_CONTROL notify on the render engine, MI_FLUSH_DW notify elsewhere. */
    public static IrqEvent notify(Engine engine) {
        return ByEngine.NOTIFY[engine.ordinal()];
    }

    /** {@code engine}'s context-switch interrupt. */
    public static IrqEvent contextSwitch(Engine engine) {
        return ByEngine.CONTEXT_SWITCH[engine.ordinal()];
    }

    /** The engines' events, derived from where {@link Engine} says its interrupt bits are. */
    private static final class ByEngine {
        private static final IrqGroup[] GT = {IrqGroup.GT0, IrqGroup.GT1, IrqGroup.GT2, IrqGroup.GT3};
        static final IrqEvent[] USER = table(Engine.IRQ_USER);
        static final IrqEvent[] NOTIFY = table(Engine.IRQ_NOTIFY);
        static final IrqEvent[] CONTEXT_SWITCH = table(Engine.IRQ_CONTEXT_SWITCH);

        private static IrqEvent[] table(int engineBit) {
            IrqEvent[] events = new IrqEvent[Engine.values().length];
            for (Engine engine : Engine.values()) {
                IrqGroup group = GT[engine.irqGroup()];
                int bit = engine.irqShift() + engineBit;
                for (IrqEvent event : IrqEvent.values()) {
                    if (event.group == group && event.bit == bit) {
                        events[engine.ordinal()] = event;
                    }
                }
                if (events[engine.ordinal()] == null) {
                    throw new IllegalStateException("no interrupt event at bit " + bit + " of " + group + " for " + engine);
                }
            }
            return events;
        }
    }
}
