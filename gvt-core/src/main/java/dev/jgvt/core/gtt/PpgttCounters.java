package dev.jgvt.core.gtt;

/** What the PPGTT shadowing of one vGPU counted; written under the vGPU's lock by the shadower's parts. */
final class PpgttCounters {
    /** Shadow page tables alive. */
    int shadowPages;
    /** Tracked writes handled. */
    long traps;
    /** Guest entries (re)shadowed. */
    long shadowedEntries;
    /** Guest entries pointing at frames that are not guest RAM or cannot be pinned. */
    long invalidFrames;
    /** 1 GiB guest pages rejected. */
    long rejectedHuge1g;
    /** Out-of-sync tables brought back in sync. */
    long oosSyncs;
    /** Shadow tables that could not be allocated. */
    long allocationFailures;
    /** PPGTTs whose shadows were reclaimed under budget pressure. */
    long reclaims;
}
