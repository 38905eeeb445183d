package dev.jgvt.plugin.xen;

import java.util.Map;

/** Test access to the plugin's availability from other test packages. */
public final class XenPluginProbe {
    private XenPluginProbe() {}

    /** The one-line availability reason of the plugin configured for the native backend. */
    public static String nativeAvailability() {
        return new XenPlugin(Map.of()).availability().reason();
    }
}
