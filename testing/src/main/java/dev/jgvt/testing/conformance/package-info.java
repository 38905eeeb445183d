/**
 * The plugin conformance kit: {@link dev.jgvt.testing.conformance.BasePluginConformanceTest}, which every
 * hypervisor plugin's test suite extends, and the {@link dev.jgvt.testing.conformance.ConformanceHarness}
 * and {@link dev.jgvt.testing.conformance.TestGuest} a plugin supplies.
 */
package dev.jgvt.testing.conformance;
