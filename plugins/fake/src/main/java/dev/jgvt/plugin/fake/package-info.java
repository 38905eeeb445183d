/**
 * The fake hypervisor plugin: guests that live in the engine's process, with RAM in a
 * {@link java.lang.foreign.MemorySegment}, full SPI semantics and scripted faults. Entry point
 * {@link dev.jgvt.plugin.fake.FakeHypervisorPlugin}; the test-facing handle of a guest is
 * {@link dev.jgvt.plugin.fake.FakeGuest}.
 */
package dev.jgvt.plugin.fake;
