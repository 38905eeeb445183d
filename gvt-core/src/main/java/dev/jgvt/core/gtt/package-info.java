/**
 * Graphics memory virtualization for one vGPU: the GGTT partition and its shadow
 * ({@link dev.jgvt.core.gtt.GgttShadow}, the {@link dev.jgvt.core.gtt.GgttWindow} implementation), shadow PPGTTs
 * ({@link dev.jgvt.core.gtt.PpgttShadower}) with page tracking, out-of-sync pages and LRU reclaim, the per-vGPU
 * pin cache with DMA-unmap invalidation ({@link dev.jgvt.core.gtt.PinCache}), and the scratch pages. See
 * {@code docs/graphics-memory.md}.
 */
package dev.jgvt.core.gtt;
