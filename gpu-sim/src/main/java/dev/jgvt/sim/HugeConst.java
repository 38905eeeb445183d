package dev.jgvt.sim;

/** Page sizes of the simulated GPU. */
final class HugeConst {
    static final int PAGE = 4096;
    static final int PAGE_64K = 64 * 1024;
    static final int HUGE = 2 * 1024 * 1024;
    static final int FRAMES_PER_HUGE = HUGE / PAGE;

    private HugeConst() {}
}
