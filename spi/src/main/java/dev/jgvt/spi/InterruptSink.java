package dev.jgvt.spi;

/**
 * Interrupt delivery to the guest, eventfd-style: each signal is a counter increment that the hypervisor
 * turns into an interrupt. Signals may coalesce (two signals before the guest runs are one interrupt),
 * exactly as with an eventfd.
 *
 * <p>Contract 3: every method is safe from any thread and <b>never blocks</b> the caller. If the VMM has
 * not configured the interrupt yet (no eventfd bound), the signal is dropped and counted, not queued.
 * The core checks the guest's MSI enable bit before calling {@link #signalMsi()}; the plugin need not.
 */
public interface InterruptSink {
    /** Raises the vGPU's MSI (vector 0). */
    void signalMsi();

    /**
     * Raises the legacy INTx line, where the plugin declares {@link Capability#INTX}.
     *
     * @throws GvtException {@link ErrorCode#UNSUPPORTED} by default
     */
    default void signalIntx() {
        throw new GvtException(ErrorCode.UNSUPPORTED, "this plugin does not deliver INTx");
    }

    /** How many signals were dropped because no interrupt was configured; for diagnostics. */
    default long droppedSignals() {
        return 0;
    }
}
