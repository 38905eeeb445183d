/**
 * The hardware's vocabulary, shared by every other package of the core and by the host GPU: the Gen9 engines as
 * data ({@link dev.jgvt.core.hw.Engine}: MMIO base, command class, reset and interrupt bits, register names), the
 * GTT entry layout ({@link dev.jgvt.core.hw.GttEntry}) and graphics-memory ranges
 * ({@link dev.jgvt.core.hw.GmRange}, {@link dev.jgvt.core.hw.VgpuPartition}). A leaf: it depends on nothing else
 * of jgvt (an ArchUnit rule says so).
 */
package dev.jgvt.core.hw;
