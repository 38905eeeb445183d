/**
 * The jgvt hypervisor SPI (version 1): everything a hypervisor vendor needs to attach jgvt's vGPUs to
 * its virtual machines, and nothing else.
 *
 * <p>The SPI has two directions.
 *
 * <ul>
 *   <li><b>Plugin to core.</b> A plugin provides one {@link dev.jgvt.spi.HypervisorPlugin} extension. The
 *       core opens it ({@link dev.jgvt.spi.Hypervisor}) and attaches each vGPU to one guest
 *       ({@link dev.jgvt.spi.GuestBinding}). Per guest the plugin offers guest memory access
 *       ({@link dev.jgvt.spi.GuestMemory}), page pinning ({@link dev.jgvt.spi.GuestPages}), write
 *       tracking of guest frames ({@link dev.jgvt.spi.PageTracker}) and interrupt delivery
 *       ({@link dev.jgvt.spi.InterruptSink}). These replace GVT-g's hypervisor "MPT" ops with the
 *       mechanisms VFIO already defines generically: a software IOMMU, notifiers and an eventfd.
 *   <li><b>Core to plugin.</b> The core implements one {@link dev.jgvt.spi.DeviceModel} per vGPU; the
 *       plugin exposes it to its VMM (VFIO regions, ioreqs, vfio-user messages).
 * </ul>
 *
 * <p>Every failure crosses the SPI as a {@link dev.jgvt.spi.GvtException} carrying an
 * {@link dev.jgvt.spi.ErrorCode}; never as a raw errno and never as a hang. Addresses are guest physical
 * addresses (GPA, equal to the IOVA under VFIO); frames ("gfn") are GPAs shifted right by 12.
 */
package dev.jgvt.spi;
