package dev.jgvt.core.plugin;

import java.lang.ref.WeakReference;

/**
 * Lets test plugins report their class loader to the test without the test holding it strongly: a plugin
 * calls {@link #seen} (it reaches this host class through PF4J's plugin-then-application strategy).
 */
public final class LeakProbe {
    private static volatile WeakReference<ClassLoader> last = new WeakReference<>(null);

    private LeakProbe() {}

    public static void seen(ClassLoader loader) {
        last = new WeakReference<>(loader);
    }

    static WeakReference<ClassLoader> last() {
        return last;
    }
}
