package dev.jgvt.core.gtt;

/**
 * Told, inside {@code DeviceModel.dmaUnmapped}, that guest frames {@code [firstGfn, endGfn)} are going away.
 * GGTT and PPGTT shadows point their affected entries at scratch and drop their pins; the submission layer
 * fails in-flight work that used them. Called under the vGPU's lock; must not throw and must not block.
 */
@FunctionalInterface
public interface DmaInvalidationListener {
    void invalidated(long firstGfn, long endGfn);
}
