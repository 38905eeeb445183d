package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

/**
 * One guest PPGTT (an address space given by its root pointers) and its shadow: GVT-g's PPGTT "mm".
 * Shared by every context using the same roots (reference-counted through {@link PpgttShadower#acquire}
 * and {@link PpgttShadower#release}); pinned while a workload uses it. Unpinned shadows may be reclaimed and
 * are rebuilt at the next pin.
 */
public final class ShadowPpgtt {
    private final PpgttRoot root;
    int refs;
    int pins;
    boolean shadowed;
    boolean destroyed;
    /** Root shadow tables (1 for L4, 4 for L3; null = not present). */
    final Object[] rootSpts;
    /** Device addresses of the shadow roots, valid while shadowed. */
    final long[] shadowRoots;
    private volatile long failures;
    private String error;

    ShadowPpgtt(PpgttRoot root) {
        this.root = requireNonNull(root, "root is null");
        this.rootSpts = new Object[root.count()];
        this.shadowRoots = new long[root.count()];
    }

    public PpgttRoot root() {
        return root;
    }

    /** Whether the shadow tree exists right now. */
    public boolean isShadowed() {
        return shadowed;
    }

    /**
     * The shadow root pointers to load into the shadow context while pinned: the PML4 table's device address
     * for L4, the four page directories' for L3 (scratch for a not-present guest root pointer).
     *
     * @throws IllegalStateException if not shadowed
     */
    public long[] shadowRoots() {
        if (!shadowed) {
            throw new IllegalStateException(this + " is not shadowed");
        }
        return shadowRoots.clone();
    }

    /** References from contexts (PVINFO create, lazily created contexts). */
    public int refCount() {
        return refs;
    }

    /** Workloads using this address space right now. */
    public int pinCount() {
        return pins;
    }

    /** Why the last pin failed (a guest error), or null. */
    public String error() {
        return error;
    }

    void error(String message) {
        this.error = message;
    }

    /**
     * How many times guest RAM this address space used while pinned was unmapped. A workload notes the count when
     * it pins the address space and fails when the count moved by the time it resumes or completes: every
     * workload on the address space sees the unmap, not only the first to ask (several workloads on different
     * engines may share one address space, each of them between slices when the unmap comes).
     */
    public long failures() {
        return failures;
    }

    void fail() {
        failures++;
    }

    @Override
    public String toString() {
        return "ShadowPpgtt" + root + (shadowed ? " shadowed" : "") + " refs=" + refs + " pins=" + pins;
    }
}
