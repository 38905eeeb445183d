package dev.jgvt.core.mmio;

/**
 * The handler registry: the names the register table's {@code handler} column may use (lower case) and
 * which the vGPU's assembly binds to a {@link RegisterHandler} ({@link MmioSpace#bind}). {@link #STORE} is
 * a row without a handler ({@code -}): the virtual register file with the row's attributes. A behaviour
 * without a binding falls back to {@link #STORE}.
 */
public enum Behavior {
    /** Plain storage in the virtual register file (attributes applied). */
    STORE,
    /** Reads 0, writes accepted and ignored (live counters, status the vGPU keeps idle). */
    READ_ZERO,
    /** RING_TIMESTAMP and its upper dword: the running command-streamer clock ({@code hw.CsTimestamp}); read-only. */
    TIMESTAMP,
    /** Forcewake request (mode-masked); the matching ack follows it. */
    FORCEWAKE,
    /** Engine / full GT reset request; reads back 0 once done. */
    GDRST,
    /** PCU (pcode) mailbox: commands complete at once ("ready"). */
    PCU_MAILBOX,
    /** Fence register halves; the index is limited to the vGPU's fences. */
    FENCE,
    /** Interrupt registers (master, ISR/IMR/IIR/IER of a group). */
    INTERRUPT,
    /** Per-engine RING_MODE (mode-masked): enabling execlists is checked against the guest's PV awareness. */
    RING_MODE,
    /** Execlist submit port (4-dword latch). */
    ELSP,
    /** Power-well request: state bits follow request bits. */
    POWER_WELL,
    /** Pipe configuration: state follows enable; drives the vblank timer. */
    PIPECONF,
    /** PIPE_FRMCOUNT: the frames an enabled pipe began, by the vblank clock (read-only). */
    FRAME_COUNTER,
    /** PIPEDSL: the scan line of an enabled pipe, moving with the vblank clock (read-only). */
    SCANLINE,
    /** Plane / cursor surface address: a write is a flip. */
    PLANE_SURFACE,
    /** TLB invalidation request; completes at once (reads 0). */
    TLB_INVALIDATE,
    /** The PVINFO page fields. */
    PVINFO,
    /** RING_RESET_CTL (mode-masked): READY_TO_RESET follows REQUEST_RESET at once. */
    RING_RESET_CTL,
    /** LCPLL/WRPLL control: lock follows enable at once. */
    PLL_ENABLE,
    /** DPLL_STATUS: lock bits of the enabled PLLs (read-only). */
    DPLL_STATUS,
    /** DBUF_CTL: power state follows power request. */
    DBUF,
    /** DDI_BUF_CTL: idle exactly while disabled. */
    DDI_BUF,
    /** PP_STATUS: panel on exactly while PP_CONTROL asks for it (read-only). */
    PANEL_POWER,
    /** DP_AUX_CH_CTL: transactions complete at once through the port's {@link AuxSink}. */
    DP_AUX,
    /** GMBUS1: I2C cycles end at once with a NAK (no DDC device on any pin). */
    GMBUS,
    /** GPIO_CTL (DDC lines): a line not driven low reads high (pulled up; no device attached). */
    GPIO;

    /** The handler names, as the table spells them. */
    static String names() {
        StringBuilder sb = new StringBuilder();
        for (Behavior b : values()) {
            if (b != STORE) {
                sb.append(sb.isEmpty() ? "" : " ").append(b.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return sb.toString();
    }
}
