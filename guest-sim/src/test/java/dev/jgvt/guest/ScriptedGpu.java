package dev.jgvt.guest;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A test device behind {@link RamPlatform}: answers PVINFO like a vGPU, translates GGTT entries the guest
 * wrote, and answers ELSP submissions the way {@link #mode} says — correctly (RING_HEAD write-back, CSB entries
 * in the status page mirror and registers, context-switch and user interrupts with an MSI), or with one thing
 * wrong. GDRST resets an engine's execlist registers and reads 0. It executes no commands; it raises the engine's user and notify interrupts whatever the commands are.
 */
final class ScriptedGpu extends RamPlatform {
    enum Mode { CORRECT, NO_CSB, WRONG_CONTEXT_ID, NO_IDLE_TO_ACTIVE, NO_INTERRUPT, NO_NOTIFY, NO_HEAD_WRITE_BACK }

    private static final long MASTER = 0x44200;
    private static final long[] GROUPS = {0x44300, 0x44310, 0x44330, 0x44400};
    private static final int[] SUMMARIES = {0b11, 0b1100, 1 << 6, 1 << 16};

    volatile Mode mode = Mode.CORRECT;
    private final Map<Long, int[]> elsp = new HashMap<>();
    private final Map<Long, Integer> elspCount = new HashMap<>();
    private final Map<Long, Integer> csbWritePointer = new HashMap<>();
    private long msis;
    /** GDRST domain masks the guest wrote, in order. */
    final java.util.List<Integer> resets = new java.util.ArrayList<>();
    private boolean masterEnabled;

    ScriptedGpu() {
        super(64L << 20, 16L << 20, 1L << 28);
        mmio.put(0x78000L, 0x4776544776544776L);
        mmio.put(0x78008L, 1L);
        mmio.put(0x78010L, (long) (PvInfo.CAP_FULL_PPGTT | PvInfo.CAP_HWSP_EMULATION));
        mmio.put(0x78040L, 0x0400_0000L);
        mmio.put(0x78044L, 0x0400_0000L);
        mmio.put(0x78048L, 0x4000_0000L);
        mmio.put(0x7804CL, 0x1000_0000L);
        for (GuestEngine engine : GuestEngine.values()) {
            mmio.put(engine.register(GuestEngine.CSB_POINTER), 7L);
        }
    }

    @Override
    public synchronized long mmioRead(int bar, long offset, int size) {
        if (offset == MASTER) {
            long value = masterEnabled ? 1L << 31 : 0;
            for (int g = 0; g < GROUPS.length; g++) {
                if (super.mmioRead(bar, GROUPS[g] + 8, 4) != 0) {
                    value |= SUMMARIES[g];
                }
            }
            return value;
        }
        return super.mmioRead(bar, offset, size);
    }

    @Override
    public synchronized void mmioWrite(int bar, long offset, int size, long value) {
        if (offset == MASTER) {
            masterEnabled = (value & (1L << 31)) != 0;
            return;
        }
        if (offset == GuestEngine.GDRST) {
            resets.add((int) value);
            for (GuestEngine engine : GuestEngine.values()) {
                if ((value & (engine.resetDomain() | 1)) != 0) {
                    super.mmioWrite(bar, engine.register(GuestEngine.CSB_POINTER), 4, 7);
                    super.mmioWrite(bar, engine.register(GuestEngine.RING_MODE), 4, 0);
                    super.mmioWrite(bar, engine.register(GuestEngine.HWS_PGA), 4, 0);
                    csbWritePointer.remove(engine.register(0));
                }
            }
            return;
        }
        for (long group : GROUPS) {
            if (offset == group + 8) {
                super.mmioWrite(bar, offset, 4, super.mmioRead(bar, offset, 4) & ~value);
                return;
            }
        }
        for (GuestEngine engine : GuestEngine.values()) {
            if (offset == engine.register(GuestEngine.CSB_POINTER)) {
                long mask = value >>> 16;
                super.mmioWrite(bar, offset, 4, (super.mmioRead(bar, offset, 4) & ~mask) | (value & mask));
                return;
            }
        }
        super.mmioWrite(bar, offset, size, value);
        for (GuestEngine engine : GuestEngine.values()) {
            if (offset == engine.register(GuestEngine.ELSP)) {
                int[] dwords = elsp.computeIfAbsent(offset, k -> new int[4]);
                int n = elspCount.merge(offset, 1, Integer::sum) - 1;
                dwords[n] = (int) value;
                if (n == 3) {
                    elspCount.put(offset, 0);
                    submitted(engine, ((long) dwords[2] << 32) | (dwords[3] & 0xFFFF_FFFFL),
                            ((long) dwords[0] << 32) | (dwords[1] & 0xFFFF_FFFFL));
                }
            }
        }
    }

    private long translate(long gma) {
        long entry = super.mmioRead(GuestPlatform.BAR0, GuestDisplay.GGTT_WINDOW + (gma >>> 12) * 8, 8);
        return (entry & ~0xFFFL) | (gma & 0xFFF);
    }

    private void submitted(GuestEngine engine, long element0, long element1) {
        if (mode == Mode.NO_CSB) {
            return;
        }
        long[] elements = (element1 & 1) != 0 ? new long[] {element0, element1} : new long[] {element0};
        csb(engine, CsbTracker.IDLE_TO_ACTIVE, 0, mode == Mode.NO_IDLE_TO_ACTIVE);
        for (int i = 0; i < elements.length; i++) {
            long image = translate((elements[i] & 0xFFFF_F000L) + 4096);
            int tail = Ram.readInt(this, image + 4 * 7);
            if (mode != Mode.NO_HEAD_WRITE_BACK) {
                Ram.writeInt(this, image + 4 * 5, tail);
            }
            int id = (int) (elements[i] >>> 32);
            if (mode == Mode.WRONG_CONTEXT_ID) {
                id ^= 0x40;
            }
            boolean last = i == elements.length - 1;
            csb(engine, (last ? CsbTracker.ACTIVE_TO_IDLE : CsbTracker.ELEMENT_SWITCH) | CsbTracker.CONTEXT_COMPLETE, id, false);
        }
        if (mode != Mode.NO_INTERRUPT) {
            int group = engine.interruptGroup().ordinal();
            long iir = GROUPS[group] + 8;
            super.mmioWrite(GuestPlatform.BAR0, iir, 4, super.mmioRead(GuestPlatform.BAR0, iir, 4)
                    | engine.contextSwitchInterrupt() | engine.userInterrupt()
                    | (mode == Mode.NO_NOTIFY ? 0 : engine.notifyInterrupt()));
            msis++;
            notifyAll();
        }
    }

    private void csb(GuestEngine engine, int status, int id, boolean skip) {
        if (skip) {
            return;
        }
        int wp = csbWritePointer.getOrDefault(engine.register(0), 7);
        wp = wp == 7 ? 0 : (wp + 1) % 6;
        csbWritePointer.put(engine.register(0), wp);
        super.mmioWrite(GuestPlatform.BAR0, engine.register(GuestEngine.CSB + 8 * wp), 4, status & 0xFFFF_FFFFL);
        super.mmioWrite(GuestPlatform.BAR0, engine.register(GuestEngine.CSB + 8 * wp + 4), 4, id & 0xFFFF_FFFFL);
        long pointer = super.mmioRead(GuestPlatform.BAR0, engine.register(GuestEngine.CSB_POINTER), 4);
        super.mmioWrite(GuestPlatform.BAR0, engine.register(GuestEngine.CSB_POINTER), 4, (pointer & ~7L) | wp);
        long hwsp = translate(super.mmioRead(GuestPlatform.BAR0, engine.register(GuestEngine.HWS_PGA), 4));
        Ram.writeInts(this, hwsp + 4 * (0x10 + 2 * wp), new int[] {status, id});
        Ram.writeInt(this, hwsp + 4 * 0x1F, wp);
    }

    /** Leaves {@code engine}'s CSB as a previous driver left it: {@code entries} entries written. */
    synchronized void staleCsb(GuestEngine engine, int entries) {
        int wp = (entries - 1) % 6;
        csbWritePointer.put(engine.register(0), wp);
        super.mmioWrite(GuestPlatform.BAR0, engine.register(GuestEngine.CSB_POINTER), 4, wp);
    }

    @Override
    public synchronized long msiCount() {
        return msis;
    }

    @Override
    public synchronized long awaitMsi(long seen, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (msis <= seen) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return msis;
    }
}
