package dev.jgvt.core.hw;

/**
 * The command streamers' timestamp clock (RING_TIMESTAMP, ring + 0x358/0x35C, and the context timestamp): a
 * free-running 64-bit counter at {@value #HZ} Hz, the frequency i915 derives on Skylake GT2 from CTC_MODE (crystal
 * clock 24 MHz, shift parameter 2: 24 MHz >> 1). One clock for the whole host: the vGPUs' MMIO reads and the
 * software GPU's register reads and post-sync timestamps count the same ticks, as on hardware, where the engines
 * and the CPU read one counter.
 */
public final class CsTimestamp {
    /** Ticks per second. */
    public static final long HZ = 12_000_000;
    private static final long ORIGIN = System.nanoTime();

    private CsTimestamp() {}

    /** Ticks since the clock started (the JVM's first use of this class). */
    public static long now() {
        return ticks(System.nanoTime() - ORIGIN);
    }

    /** {@code nanos} nanoseconds in ticks (12 ticks per microsecond). */
    public static long ticks(long nanos) {
        return nanos / 1000 * 12 + (nanos % 1000) * 12 / 1000;
    }
}
