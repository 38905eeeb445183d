/**
 * A guest GPU driver simulator: a small i915-like driver that drives a vGPU only through a
 * {@link dev.jgvt.guest.GuestPlatform} — config-space and BAR accesses, its own RAM, and MSIs — exactly as
 * a guest kernel would. It knows nothing of jgvt's host side: the few hardware constants it needs are
 * declared here again, from the hardware's documentation, so that it checks the device model instead of
 * sharing its assumptions.
 */
package dev.jgvt.guest;
