package dev.jgvt.core.plugin;

/** A host class that a test plugin bundles a copy of: the plugin must load its own copy (child-first). */
public final class ChildFirstProbe {
    private ChildFirstProbe() {}
}
