package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * One engine's execlist port as the guest drives it: a hardware status page in GGTT, run-list mode enabled
 * through RING_MODE, submissions of one or two contexts through ELSP, and the context status buffer read
 * from the status page's mirror (entries at dword 0x10 + 2i, write pointer at dword 0x1F) and checked by a
 * {@link CsbTracker}. A submission is finished when its CSB events arrived and the engine's context-switch
 * interrupt was handled; the guest then checks that each context's RING_HEAD reached the tail it submitted.
 * A submission that times out, or whose CSB events are wrong, is reported and the engine reset through GDRST
 * (its unfinished commands skipped); after {@value #MAX_RESETS} resets the engine is not used any more.
 */
final class Execlist {
    static final int CSB_MIRROR = 0x10;
    static final int CSB_MIRROR_WRITE_POINTER = 0x1F;
    static final long RING_MODE_ENABLE_RUN_LIST = 0x8000_8000L;
    /** Resets of one engine before the guest gives it up. */
    static final int MAX_RESETS = 2;
    private static final long RESET_WAIT_NANOS = 1_000_000_000L;

    private final GuestPlatform platform;
    private final GuestInterrupts interrupts;
    private final GuestEngine engine;
    private final GgttMapper.Mapping hwsp;
    private final CsbTracker csb;
    private final List<String> errors = new ArrayList<>();
    private LogicalContext[] running = NONE;
    private static final LogicalContext[] NONE = {};
    /** The CSB mirror's entries as last read: status and context id of entry i at 2i and 2i + 1. */
    private final int[] mirror = new int[2 * CsbTracker.ENTRIES];
    private boolean switchInterrupt;
    private int eventsSeen;
    private int eventsExpected;
    private boolean wedged;
    private int resets;
    private boolean active;
    private boolean succeeded;
    private long submissions;
    /** Cross-check the CSB registers against the status page on every n-th finished submission (1: on each). */
    private int registerCheckEvery = 1;
    private long finished;

    Execlist(GuestPlatform platform, GuestInterrupts interrupts, GgttMapper ggtt, GuestEngine engine) {
        this.platform = requireNonNull(platform, "platform is null");
        this.interrupts = requireNonNull(interrupts, "interrupts is null");
        this.engine = requireNonNull(engine, "engine is null");
        this.hwsp = ggtt.map(1);
        this.csb = new CsbTracker(engine.name());
        Ram.writeInt(platform, hwsp.gpa() + 4L * CSB_MIRROR_WRITE_POINTER, CsbTracker.NOTHING_WRITTEN);
    }

    /** Points HWS_PGA at the status page, unmasks the engine's interrupts, enables run-list submission. */
    void enable() {
        platform.mmioWrite(GuestPlatform.BAR0, engine.register(GuestEngine.HWS_PGA), 4, hwsp.gma());
        // both CSB pointers to "nothing written", as the status page says (i915 resets them likewise)
        platform.mmioWrite(GuestPlatform.BAR0, engine.register(GuestEngine.CSB_POINTER), 4,
                0x0707_0000L | (CsbTracker.NOTHING_WRITTEN << 8) | CsbTracker.NOTHING_WRITTEN);
        interrupts.enable(engine.interruptGroup(), events() | engine.contextSwitchInterrupt());
        platform.mmioWrite(GuestPlatform.BAR0, engine.register(GuestEngine.RING_MODE), 4, RING_MODE_ENABLE_RUN_LIST);
    }

    GuestEngine engine() {
        return engine;
    }

    /** The engine's user and notify interrupt bits. */
    int events() {
        return engine.userInterrupt() | engine.notifyInterrupt();
    }

    /** True once the engine could not be reset (again): the guest stops using it. */
    boolean wedged() {
        return wedged;
    }

    /** Whether the last submission finished complete and checked (its results may be verified). */
    boolean succeeded() {
        return succeeded;
    }

    /**
     * Submits element 0 (and element 1, if given) whose rings and tails are already written. {@code events}:
     * the engine's interrupt bits (user interrupt, notify) the commands raise, which must arrive too.
     */
    void submit(int events, LogicalContext... contexts) {
        if ((events & ~events()) != 0) {
            throw new IllegalArgumentException(String.format("0x%x are not %s's user or notify interrupts", events, engine));
        }
        if (wedged) {
            throw new IllegalStateException(engine + " is wedged");
        }
        for (LogicalContext c : contexts) {
            if (c.engine() != engine) {
                throw new IllegalArgumentException("context " + c.id() + " belongs to " + c.engine() + ", not " + engine);
            }
            c.publishTail();
        }
        csb.reset();
        if (contexts.length == 1) {
            csb.submitted(contexts[0].id());
        } else {
            csb.submitted(contexts[0].id(), contexts[1].id());
        }
        running = contexts;
        active = true;
        succeeded = false;
        switchInterrupt = false;
        eventsSeen = 0;
        eventsExpected = events;
        interrupts.consume(engine.interruptGroup(), events() | engine.contextSwitchInterrupt());
        long element0 = contexts[0].descriptor();
        long element1 = contexts.length > 1 ? contexts[1].descriptor() : 0;
        long elsp = engine.register(GuestEngine.ELSP);
        platform.mmioWrite(GuestPlatform.BAR0, elsp, 4, element1 >>> 32);
        platform.mmioWrite(GuestPlatform.BAR0, elsp, 4, element1 & 0xFFFF_FFFFL);
        platform.mmioWrite(GuestPlatform.BAR0, elsp, 4, element0 >>> 32);
        platform.mmioWrite(GuestPlatform.BAR0, elsp, 4, element0 & 0xFFFF_FFFFL);
        submissions++;
    }

    /**
     * Reads the CSB mirror and the interrupts handled so far. Returns true when the submission is finished
     * (complete and checked, or failed); false while it is still running.
     */
    boolean poll() {
        if (!active) {
            return true;
        }
        if (interrupts.consume(engine.interruptGroup(), engine.contextSwitchInterrupt())) {
            switchInterrupt = true;
        }
        eventsSeen |= interrupts.take(engine.interruptGroup(), events());
        int readBefore = csb.readPointer();
        CsbTracker.State state = csb.consume(mirrorWritePointer(), readMirror());
        if (csb.readPointer() != readBefore) {
            platform.mmioWrite(GuestPlatform.BAR0, engine.register(GuestEngine.CSB_POINTER), 4,
                    ((long) csb.readPointer() << 8) | (0x7L << 24));
        }
        return switch (state) {
            case PENDING -> false;
            case COMPLETE -> {
                if (!switchInterrupt || (eventsSeen & eventsExpected) != eventsExpected) {
                    yield false;
                }
                finish();
                yield true;
            }
            case FAILED, IDLE -> {
                // The engine's view and the guest's differ: start it again from a reset.
                errors.addAll(csb.takeErrors());
                active = false;
                recover();
                yield true;
            }
        };
    }

    /** Gives up on the running submission: the engine is considered hung and reset. */
    void timedOut(String what) {
        if (!active) {
            return;
        }
        active = false;
        String missing = csb.state() == CsbTracker.State.COMPLETE
                ? (switchInterrupt ? String.format("its interrupts 0x%x (saw 0x%x)", eventsExpected, eventsSeen)
                        : "its context-switch interrupt") : "its CSB events";
        csb.abandon(what + " timed out waiting for " + missing + " (CSB write pointer " + mirrorWritePointer() + ")");
        errors.addAll(csb.takeErrors());
        recover();
    }

    /**
     * Resets the engine through GDRST and waits for the bit to clear, skips the running contexts' unfinished
     * commands, and enables execlists again (a reset clears HWS_PGA and RING_MODE). Gives the engine up after
     * {@value #MAX_RESETS} resets or when the reset does not complete.
     */
    private void recover() {
        if (resets == MAX_RESETS) {
            wedged = true;
            errors.add(engine + ": not reset again after " + MAX_RESETS + " resets; the guest stops using it");
            return;
        }
        resets++;
        int bit = engine.resetDomain();
        platform.mmioWrite(GuestPlatform.BAR0, GuestEngine.GDRST, 4, bit);
        long deadline = System.nanoTime() + RESET_WAIT_NANOS;
        while ((platform.mmioRead(GuestPlatform.BAR0, GuestEngine.GDRST, 4) & bit) != 0) {
            if (System.nanoTime() - deadline >= 0) {
                wedged = true;
                errors.add(engine + ": the GDRST reset did not complete within 1 s; the guest stops using it");
                return;
            }
            Thread.onSpinWait();
        }
        csb.engineReset();
        Ram.writeInt(platform, hwsp.gpa() + 4L * CSB_MIRROR_WRITE_POINTER, CsbTracker.NOTHING_WRITTEN);
        for (LogicalContext c : running) {
            c.skipToTail();
        }
        running = NONE;
        enable();
    }

    /** GDRST resets done so far. */
    int resets() {
        return resets;
    }

    private void finish() {
        int before = errors.size();
        for (LogicalContext c : running) {
            int head = c.imageHead();
            if (head != c.ring().tail()) {
                errors.add(String.format("%s: context 0x%x completed but its image's RING_HEAD is 0x%x, not the tail 0x%x",
                        engine, c.id(), head, c.ring().tail()));
            }
            c.ring().consumed(c.ring().tail());
        }
        if (++finished % registerCheckEvery == 0) {
            checkMmioCsb();
        }
        running = NONE;
        active = false;
        succeeded = errors.size() == before;
    }

    /**
     * Cross-checks the CSB registers against the status page's mirror only on every {@code n}-th finished submission
     * (1, the default: on each). The check is this simulator's own: a driver that reads the CSB from the status page
     * (i915 on Gen9) never reads the CSB registers, so a guest standing in for it in a benchmark checks them only now
     * and then — each check costs five trapped MMIO reads.
     */
    void checkCsbRegistersEvery(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("the CSB register check interval must be at least 1: " + n);
        }
        registerCheckEvery = n;
    }

    /** The CSB registers must say what the status page's mirror says, for the entries of this submission. */
    private void checkMmioCsb() {
        long pointer = platform.mmioRead(GuestPlatform.BAR0, engine.register(GuestEngine.CSB_POINTER), 4);
        int mirror = mirrorWritePointer();
        if ((pointer & 7) != mirror) {
            errors.add(String.format("%s: CSB pointer register says write pointer %d, the status page says %d",
                    engine, pointer & 7, mirror));
            return;
        }
        int[] entries = readMirror();
        for (int k = 0; k < csb.consumedCount(); k++) {
            int i = csb.consumedIndex(k);
            int status = (int) platform.mmioRead(GuestPlatform.BAR0, engine.register(GuestEngine.CSB + 8 * i), 4);
            int id = (int) platform.mmioRead(GuestPlatform.BAR0, engine.register(GuestEngine.CSB + 8 * i + 4), 4);
            if (status != entries[2 * i] || id != entries[2 * i + 1]) {
                errors.add(String.format("%s: CSB register entry %d is {0x%x, 0x%x}, the status page has %s",
                        engine, i, status, id, new CsbTracker.Entry(entries[2 * i], entries[2 * i + 1])));
                return;
            }
        }
    }

    private int mirrorWritePointer() {
        return Ram.readInt(platform, hwsp.gpa() + 4L * CSB_MIRROR_WRITE_POINTER);
    }

    /** Reads the six CSB entries of the status page's mirror into {@link #mirror}. */
    private int[] readMirror() {
        Ram.readInts(platform, hwsp.gpa() + 4L * CSB_MIRROR, mirror);
        return mirror;
    }

    long submissions() {
        return submissions;
    }

    int completions() {
        return csb.completions();
    }

    /** Errors found since the last call. */
    List<String> takeErrors() {
        if (errors.isEmpty()) {
            return List.of();
        }
        List<String> taken = List.copyOf(errors);
        errors.clear();
        return taken;
    }
}
