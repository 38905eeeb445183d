package dev.jgvt.guest;

import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A PPGTT the guest announces to the host through PVINFO and then keeps rewriting: each step remaps a
 * few random pages of a 2 MiB window to other frames, as a driver binding and unbinding objects does.
 * Every entry written after the announcement lands in a page-table page the host tracks. A context runs
 * in this PPGTT, so a store through a just-remapped address shows whether the host re-shadowed the entry.
 */
final class PteChurn {
    static final long WINDOW = 0x4000_0000L;
    static final int PAGES = 512;
    private static final long PAGE = 4096;

    /** A page of the window whose entry was rewritten: its address, and the frames before and after. */
    record Remap(long va, long oldFrame, long newFrame) {}

    private final GuestPlatform platform;
    private final Ppgtt ppgtt;
    private final long[] frames = new long[64];
    private final int[] mapped = new int[PAGES];
    private final SplittableRandom random;

    PteChurn(GuestPlatform platform, FrameAllocator allocator, int seed) {
        this.platform = platform;
        this.ppgtt = new Ppgtt(platform, allocator);
        this.random = new SplittableRandom(seed);
        for (int i = 0; i < frames.length; i++) {
            frames[i] = allocator.frame();
        }
    }

    PageTables tables() {
        return ppgtt;
    }

    /** The guest physical address {@code va} maps to now, or -1. */
    long translate(long va) {
        return ppgtt.translate(va);
    }

    /** Maps the window, then tells the host (PVINFO pdp[0] + g2v L4 create). Returns entries written. */
    int announce() {
        for (int page = 0; page < PAGES; page++) {
            mapped[page] = page % frames.length;
            ppgtt.map4k(WINDOW + page * PAGE, frames[mapped[page]], PAGE);
        }
        AddressSpace.notify(platform, ppgtt, true);
        return PAGES;
    }

    /** Remaps 16 random pages of the window; returns the last one that moved to another frame, if any. */
    Optional<Remap> step() {
        int[] before = mapped.clone();
        int moved = -1;
        for (int i = 0; i < 16; i++) {
            int page = random.nextInt(PAGES);
            int frame = random.nextInt(frames.length);
            ppgtt.map4k(WINDOW + page * PAGE, frames[frame], PAGE);
            mapped[page] = frame;
            if (mapped[page] != before[page]) {
                moved = page;
            }
        }
        if (moved < 0 || mapped[moved] == before[moved]) {
            return Optional.empty();
        }
        return Optional.of(new Remap(WINDOW + moved * PAGE, frames[before[moved]], frames[mapped[moved]]));
    }

    /** Entries one {@link #step} writes. */
    static int entriesPerStep() {
        return 16;
    }

    /** Tells the host the PPGTT is gone. */
    void retire() {
        AddressSpace.notify(platform, ppgtt, false);
    }
}
