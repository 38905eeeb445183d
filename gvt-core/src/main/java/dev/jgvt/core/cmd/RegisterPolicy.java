package dev.jgvt.core.cmd;

/**
 * Which MMIO registers guest command streams may touch (gvt-g.md §3.7). Offsets are byte offsets in the 2 MiB
 * MMIO window, dword aligned. Implementations answer in O(1) without allocating.
 */
public interface RegisterPolicy {
    /** Whether LRI and PIPE_CONTROL post-sync MMIO writes may target {@code offset} (F_CMD_ACCESS). */
    boolean commandAccessible(int offset);

    /** Whether MI_LOAD_REGISTER_MEM / MI_STORE_REGISTER_MEM may name {@code offset}. */
    boolean memoryTransferAllowed(int offset);

    /** Whether MI_LOAD_REGISTER_REG may copy {@code source} to {@code destination}. */
    boolean registerCopyAllowed(int source, int destination);

    /**
     * The offset an LRI to {@code offset} is patched to in the shadow command so that the write never reaches
     * hardware (DERRMR, FORCEWAKE_MT), or -1 when the write is not patched.
     */
    int patchedOffset(int offset);
}
