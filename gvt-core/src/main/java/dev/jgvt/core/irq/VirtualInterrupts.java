package dev.jgvt.core.irq;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * The vGPU's interrupt registers (GEN8+ hierarchy) and the event → MSI path, as GVT-g models them.
 *
 * <ul>
 *   <li>{@link #raise}: the event's ISR bit is set (cleared again when the guest acknowledges the IIR bit);
 *       if its IMR bit is clear, its IIR bit is latched (masked events are dropped, not latched).</li>
 *   <li>The master register (0x44200): bit 31 is the guest's enable; every other bit is a summary of one
 *       group half having IIR &amp; IER pending, kept by the device.</li>
 *   <li>After an event and after guest writes to IMR, IER or the master, if the master enable is set and a
 *       summary bit is set, {@link MsiTrigger#trigger()} is called (the vGPU checks MSI enable in config
 *       space and signals its binding's interrupt sink).</li>
 *   <li>IIR is write-1-to-clear (updates the summary, no new interrupt); ISR is read-only.</li>
 * </ul>
 * Not thread-safe (the vGPU serialises); allocation-free.
 */
public final class VirtualInterrupts {
    public static final int MASTER = 0x44200;
    public static final int MASTER_ENABLE = 1 << 31;

    /** Where interrupts go when one is pending and enabled. */
    @FunctionalInterface
    public interface MsiTrigger {
        void trigger();
    }

    private static final IrqGroup[] GROUPS = IrqGroup.values();
    private final MsiTrigger msi;
    private final int[] isr = new int[GROUPS.length];
    private final int[] imr = new int[GROUPS.length];
    private final int[] iir = new int[GROUPS.length];
    private final int[] ier = new int[GROUPS.length];
    private int master;
    private long triggers;

    public VirtualInterrupts(MsiTrigger msi) {
        this.msi = requireNonNull(msi, "msi is null");
        reset();
    }

    /** Power-on state: everything masked, nothing enabled or pending. */
    public void reset() {
        Arrays.fill(isr, 0);
        Arrays.fill(imr, 0xFFFFFFFF);
        Arrays.fill(iir, 0);
        Arrays.fill(ier, 0);
        master = 0;
    }

    /** Raises {@code event}; see the class comment. */
    public void raise(IrqEvent event) {
        int g = event.group().ordinal();
        int bit = 1 << event.bit();
        isr[g] |= bit;
        if ((imr[g] & bit) == 0) {
            iir[g] |= bit;
        }
        updateSummary();
        checkPending();
    }

    /** Whether {@code offset} is one of the interrupt registers modelled here. */
    public static boolean handles(int offset) {
        return offset == MASTER || group(offset) != null;
    }

    /** A guest read of the register at {@code offset} (0 for an offset that is not an interrupt register). */
    public int read(int offset) {
        if (offset == MASTER) {
            return master;
        }
        IrqGroup group = group(offset);
        if (group == null) {
            return 0;
        }
        int g = group.ordinal();
        return switch (offset - group.base()) {
            case IrqGroup.ISR -> isr[g];
            case IrqGroup.IMR -> imr[g];
            case IrqGroup.IIR -> iir[g];
            default -> ier[g];
        };
    }

    /** A guest write of the register at {@code offset}; see the class comment. */
    public void write(int offset, int value) {
        if (offset == MASTER) {
            master = (master & ~MASTER_ENABLE) | (value & MASTER_ENABLE);
            checkPending();
            return;
        }
        IrqGroup group = group(offset);
        if (group == null) {
            return;
        }
        int g = group.ordinal();
        switch (offset - group.base()) {
            case IrqGroup.ISR -> { } // read-only
            case IrqGroup.IMR -> {
                imr[g] = value;
                checkPending();
            }
            case IrqGroup.IIR -> {
                iir[g] &= ~value;
                isr[g] &= ~value;
                updateSummary();
            }
            default -> {
                ier[g] = value;
                updateSummary();
                checkPending();
            }
        }
    }

    private void updateSummary() {
        int summary = 0;
        for (int g = 0; g < GROUPS.length; g++) {
            summary |= GROUPS[g].summary(iir[g] & ier[g]);
        }
        master = (master & MASTER_ENABLE) | summary;
    }

    private void checkPending() {
        if ((master & MASTER_ENABLE) != 0 && (master & ~MASTER_ENABLE) != 0) {
            triggers++;
            msi.trigger();
        }
    }

    /** How often an interrupt was found pending and enabled (diagnostics). */
    public long triggers() {
        return triggers;
    }

    public int iir(IrqGroup group) {
        return iir[group.ordinal()];
    }

    public int master() {
        return master;
    }

    private static IrqGroup group(int offset) {
        for (IrqGroup group : GROUPS) {
            if (offset >= group.base() && offset < group.base() + 0x10 && (offset & 3) == 0) {
                return group;
            }
        }
        return null;
    }
}
