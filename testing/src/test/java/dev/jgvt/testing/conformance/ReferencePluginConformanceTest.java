package dev.jgvt.testing.conformance;

import java.util.Set;

/** The kit against a correct plugin: every check passes (so a failure elsewhere is the plugin's, not the kit's). */
final class ReferencePluginConformanceTest extends BasePluginConformanceTest {
    @Override
    protected ConformanceHarness createHarness() {
        return new ReferenceHarness(Set.of());
    }
}
