/**
 * The host GPU seen from the core: {@link dev.jgvt.core.host.HostGpu} (host GGTT, device address space,
 * host-owned memory). Implemented by {@code gpu-sim} (a software GPU) and later by real back-ends.
 */
package dev.jgvt.core.host;
