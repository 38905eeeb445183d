package dev.jgvt.core.mmio;

/**
 * What is attached to a DisplayPort AUX channel: the place a virtual monitor (DPCD, EDID over I2C-over-AUX)
 * plugs in. {@link DisplayHandlers.DpAux} calls it for every transaction the guest starts. Runs under the
 * vGPU's lock; must not allocate on the common path and must not throw for any request.
 */
@FunctionalInterface
public interface AuxSink {
    /** No reply: the source sees what real hardware reports without a sink (DONE with TIME_OUT_ERROR). */
    int NO_REPLY = -1;

    /**
     * One AUX transaction.
     *
     * @param port the DDI port (0 = A ... 3 = D)
     * @param mmio the register file; the request is in the five data registers from {@code dataOffset}
     *     (bytes big-endian within each dword, as the hardware packs them)
     * @param dataOffset BAR0 offset of the first data register
     * @param requestSize the request's length in bytes (AUX_CTL's message size field)
     * @return the reply's length in bytes (1..20), written into the same data registers, or {@link #NO_REPLY}
     */
    int transact(int port, MmioSpace mmio, int dataOffset, int requestSize);

    /** Nothing attached: every transaction times out. */
    AuxSink NONE = (port, mmio, dataOffset, requestSize) -> NO_REPLY;
}
