package dev.jgvt.testing.conformance;

/**
 * Things a plugin (or its test harness) may be unable to do. A check that needs a behavior the harness
 * does not support is skipped (JUnit assumption) with the behavior named, never silently passed.
 * Declared through {@link ConformanceHarness#supports(Behavior)}.
 */
public enum Behavior {
    /**
     * The binding offers a {@link dev.jgvt.spi.PageTracker}: tracking, refcounts and errors are checked.
     * Default: the plugin declares {@link dev.jgvt.spi.Capability#PAGE_TRACKING}.
     */
    PAGE_TRACKING,
    /**
     * The harness can make the guest CPU write guest RAM through the plugin's trap path
     * ({@link TestGuest#guestWrite}); needed for the tracked-write checks.
     */
    GUEST_WRITES,
    /**
     * The harness can make the VMM remove a guest RAM range ({@link TestGuest#removeRam}); needed for the
     * unmap-interlock checks and for observing that failed or closed pins left nothing pinned.
     */
    REMOVE_RAM,
    /**
     * Segments of a closed {@link dev.jgvt.spi.PinnedPages} throw {@link IllegalStateException} on access.
     * Plugins whose mappings cannot be revoked (they read stale memory instead) do not support this.
     */
    REVOKED_PIN_SEGMENTS,
    /**
     * A 512-page pin is contiguous in host memory ({@link dev.jgvt.spi.PinnedPages#contiguous()} present).
     * Default: the plugin declares {@link dev.jgvt.spi.Capability#HUGE_PAGE_PIN_2M}.
     */
    CONTIGUOUS_2M_PINS,
    /**
     * The harness can stall the consumer of the guest's interrupts ({@link TestGuest#stallInterrupts}) and
     * observe delivered interrupts ({@link TestGuest#awaitInterrupts}).
     */
    STALL_INTERRUPTS,
    /**
     * The harness can make the VMM map a guest RAM range read-only ({@link TestGuest#protectRam}); the
     * PERMISSION_DENIED paths of {@link dev.jgvt.spi.GuestMemory#write} and {@link dev.jgvt.spi.GuestPages#pin}
     * are then checked.
     */
    READ_ONLY_RAM
}
