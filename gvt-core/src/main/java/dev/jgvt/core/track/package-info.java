/**
 * Page tracking: the per-vGPU registry of write-tracked guest frames ({@link dev.jgvt.core.track.PageTrackRegistry})
 * that dispatches the hypervisor's tracked-write reports to their owners (shadow page tables, display).
 */
package dev.jgvt.core.track;
