package dev.jgvt.core.mmio;

import static java.util.Objects.requireNonNull;

/**
 * The display engine's "fake hardware" a Skylake driver waits on while it probes and programs the display
 * (GVT-g's {@code handlers.c}/{@code display.c} semantics, written from the register definitions): PLL
 * enables lock at once, DPLL_STATUS reports the locks, DBUF and DDI buffers follow their requests, the panel
 * power sequencer reaches its target at once, and DP AUX transactions complete at once, answered by the
 * port's {@link AuxSink} (none attached: a timeout, as hardware reports it).
 */
public final class DisplayHandlers {
    public static final int LCPLL1_CTL = 0x46010;
    public static final int LCPLL2_CTL = 0x46014;
    public static final int WRPLL_CTL1 = 0x46040;
    public static final int WRPLL_CTL2 = 0x46060;
    /** LCPLL/WRPLL control: bit 31 enable, bit 30 lock. */
    public static final int PLL_ENABLE = 1 << 31;
    public static final int PLL_LOCK = 1 << 30;
    public static final int DPLL_STATUS = 0x6C060;
    public static final int DBUF_CTL = 0x45008;
    /** DBUF_CTL: bit 31 power request, bit 30 power state. */
    public static final int DBUF_POWER_REQUEST = 1 << 31;
    public static final int DBUF_POWER_STATE = 1 << 30;
    public static final int DDI_BUF_CTL_A = 0x64000;
    /** DDI_BUF_CTL: bit 31 enable, bit 7 idle. */
    public static final int DDI_BUF_ENABLE = 1 << 31;
    public static final int DDI_BUF_IDLE = 1 << 7;
    public static final int PP_STATUS = 0xC7200;
    public static final int PP_CONTROL = 0xC7204;
    /** PP_CONTROL bit 0: power target on; PP_STATUS bit 31: panel on (sequence idle, no cycle delay). */
    public static final int PP_POWER_TARGET_ON = 1;
    public static final int PP_ON = 1 << 31;
    public static final int AUX_CTL_A = 0x64010;
    public static final int AUX_PORTS = 4;
    /** DP_AUX_CH_CTL bits. */
    public static final int AUX_SEND_BUSY = 1 << 31;
    public static final int AUX_DONE = 1 << 30;
    public static final int AUX_INTERRUPT = 1 << 29;
    public static final int AUX_TIME_OUT_ERROR = 1 << 28;
    public static final int AUX_RECEIVE_ERROR = 1 << 25;
    public static final int AUX_MESSAGE_SIZE_SHIFT = 20;
    public static final int AUX_MESSAGE_SIZE_MASK = 0x1F << AUX_MESSAGE_SIZE_SHIFT;

    public static final int GMBUS1 = 0xC5104;
    public static final int GMBUS2 = 0xC5108;
    /** GMBUS1: bit 31 software clear interrupt, bit 30 software ready (start a cycle). */
    public static final int GMBUS_SW_CLR_INT = 1 << 31;
    public static final int GMBUS_SW_RDY = 1 << 30;
    /** GMBUS2: bit 10 slave acknowledge timeout error (NAK). */
    public static final int GMBUS_SATOER = 1 << 10;

    /** GPIO_CTL (DDC pins, bit-banged I2C): per line a direction-enable, direction, value-enable, value and input bit. */
    public static final int GPIO_CLOCK_DIR_MASK = 1;
    public static final int GPIO_CLOCK_DIR_OUT = 1 << 1;
    public static final int GPIO_CLOCK_VAL_MASK = 1 << 2;
    public static final int GPIO_CLOCK_VAL_OUT = 1 << 3;
    public static final int GPIO_CLOCK_VAL_IN = 1 << 4;
    public static final int GPIO_DATA_SHIFT = 8;

    private DisplayHandlers() {}

    /** Binds the display fake hardware of {@code mmio}; no AUX sink is attached. */
    public static void bind(MmioSpace mmio) {
        requireNonNull(mmio, "mmio is null");
        mmio.bind(Behavior.PLL_ENABLE, new PllEnable(mmio));
        mmio.bind(Behavior.DPLL_STATUS, new DpllStatus(mmio));
        mmio.bind(Behavior.DBUF, new RequestFollower(mmio, DBUF_POWER_REQUEST, DBUF_POWER_STATE));
        mmio.bind(Behavior.DDI_BUF, new DdiBuffer(mmio));
        mmio.bind(Behavior.PANEL_POWER, new PanelPower(mmio));
        mmio.bind(Behavior.DP_AUX, new DpAux(mmio));
        mmio.bind(Behavior.GMBUS, new Gmbus(mmio));
        mmio.bind(Behavior.GPIO, new Gpio(mmio));
    }

    /**
     * A GPIO_CTL register (the DDC clock and data lines i915 bit-bangs when GMBUS fails). Each line is driven
     * low when its direction is "out" with value 0; otherwise nothing pulls it down (no device is attached),
     * so its input bit reads high, as the pull-ups make it on hardware. A bit-banged I2C transfer then ends
     * with a NAK at the address byte instead of waiting for a clock line that never rises.
     */
    record Gpio(MmioSpace mmio) implements RegisterHandler {
        private static final int LINE_STATE = GPIO_CLOCK_DIR_OUT | GPIO_CLOCK_VAL_OUT;

        @Override
        public int read(int offset) {
            int v = mmio.get(offset);
            return v | input(v) | (input(v >>> GPIO_DATA_SHIFT) << GPIO_DATA_SHIFT);
        }

        private static int input(int line) {
            boolean drivenLow = (line & GPIO_CLOCK_DIR_OUT) != 0 && (line & GPIO_CLOCK_VAL_OUT) == 0;
            return drivenLow ? 0 : GPIO_CLOCK_VAL_IN;
        }

        @Override
        public void write(int offset, int value) {
            int old = mmio.get(offset);
            int v = update(old, value) | (update(old >>> GPIO_DATA_SHIFT, value >>> GPIO_DATA_SHIFT) << GPIO_DATA_SHIFT);
            int others = value & ~((0x1F << GPIO_DATA_SHIFT) | 0x1F); // pull-up disables and reserved bits
            mmio.set(offset, v | others);
        }

        private static int update(int old, int value) {
            int line = old & LINE_STATE;
            if ((value & GPIO_CLOCK_DIR_MASK) != 0) {
                line = (line & ~GPIO_CLOCK_DIR_OUT) | (value & GPIO_CLOCK_DIR_OUT);
            }
            if ((value & GPIO_CLOCK_VAL_MASK) != 0) {
                line = (line & ~GPIO_CLOCK_VAL_OUT) | (value & GPIO_CLOCK_VAL_OUT);
            }
            return line;
        }
    }

    /**
     * GMBUS1 (the I2C controller for DDC): no device answers on any pin, so a cycle started with SW_RDY
     * ends at once with a NAK (GMBUS2 SATOER, not active) until the driver writes SW_CLR_INT. i915 then
     * reports no EDID without waiting for timeouts or falling back to bit-banging the GPIO pins.
     * Answering with a device (a virtual monitor's EDID) is issue 16's work.
     */
    record Gmbus(MmioSpace mmio) implements RegisterHandler.Stored {
        @Override
        public void write(int offset, int value) {
            mmio.set(offset, value & ~(GMBUS_SW_CLR_INT | GMBUS_SW_RDY));
            if ((value & GMBUS_SW_CLR_INT) != 0) {
                mmio.set(GMBUS2, 0);
            } else if ((value & GMBUS_SW_RDY) != 0) {
                mmio.set(GMBUS2, GMBUS_SATOER);
            }
        }
    }

    /**
     * A DP AUX channel handler for every port, with {@code sink} attached to DDI port {@code port} (0 = A) and
     * nothing on the others; bind it to {@link Behavior#DP_AUX} in place of the default one.
     */
    public static RegisterHandler dpAux(MmioSpace mmio, int port, AuxSink sink) {
        requireNonNull(mmio, "mmio is null");
        if (port < 0 || port >= AUX_PORTS) {
            throw new IllegalArgumentException("no AUX channel for port " + port);
        }
        DpAux aux = new DpAux(mmio);
        aux.attach(port, sink);
        return aux;
    }

    /** LCPLL/WRPLL control: only enable and lock are implemented; lock follows enable at once. */
    record PllEnable(MmioSpace mmio) implements RegisterHandler.Stored {
        @Override
        public void write(int offset, int value) {
            int v = value & PLL_ENABLE;
            mmio.set(offset, v == 0 ? 0 : v | PLL_LOCK);
        }
    }

    /** DPLL_STATUS: DPLL n's lock bit (8n) reads set while its PLL (LCPLL1, LCPLL2, WRPLL1, WRPLL2) is enabled. */
    record DpllStatus(MmioSpace mmio) implements RegisterHandler {
        @Override
        public int read(int offset) {
            return lock(LCPLL1_CTL, 0) | lock(LCPLL2_CTL, 8) | lock(WRPLL_CTL1, 16) | lock(WRPLL_CTL2, 24);
        }

        private int lock(int pll, int shift) {
            return (mmio.get(pll) & PLL_ENABLE) != 0 ? 1 << shift : 0;
        }

        @Override
        public void write(int offset, int value) {
            mmio.logDropped(offset, "write to the read-only DPLL_STATUS ignored");
        }
    }

    /** A state bit that follows its request bit at once (DBUF power). */
    record RequestFollower(MmioSpace mmio, int request, int state) implements RegisterHandler.Stored {
        @Override
        public void write(int offset, int value) {
            mmio.set(offset, (value & request) != 0 ? value | state : value & ~state);
        }
    }

    /** DDI_BUF_CTL: the buffer reads idle exactly while it is disabled. */
    record DdiBuffer(MmioSpace mmio) implements RegisterHandler.Stored {
        @Override
        public void write(int offset, int value) {
            mmio.set(offset, (value & DDI_BUF_ENABLE) != 0 ? value & ~DDI_BUF_IDLE : value | DDI_BUF_IDLE);
        }
    }

    /** PP_STATUS: the panel is on exactly while PP_CONTROL asks for it; the sequencer is never busy. */
    record PanelPower(MmioSpace mmio) implements RegisterHandler {
        @Override
        public int read(int offset) {
            return (mmio.get(PP_CONTROL) & PP_POWER_TARGET_ON) != 0 ? PP_ON : 0;
        }

        @Override
        public void write(int offset, int value) {
            mmio.logDropped(offset, "write to the read-only PP_STATUS ignored");
        }
    }

    /**
     * DP_AUX_CH_CTL of DDI A-D (the five data registers after it are plain registers). Writing SEND_BUSY
     * runs the transaction at once through the port's {@link AuxSink}: SEND_BUSY reads clear, DONE set, and
     * either the reply size or, without a reply, TIME_OUT_ERROR. DONE, TIME_OUT_ERROR and RECEIVE_ERROR are
     * write-1-to-clear. The AUX interrupt is not raised (i915 polls SEND_BUSY, which is clear at once).
     */
    static final class DpAux implements RegisterHandler {
        private static final int STICKY = AUX_DONE | AUX_TIME_OUT_ERROR | AUX_RECEIVE_ERROR;
        private final MmioSpace mmio;
        private final AuxSink[] sinks = new AuxSink[AUX_PORTS];

        DpAux(MmioSpace mmio) {
            this.mmio = mmio;
            java.util.Arrays.fill(sinks, AuxSink.NONE);
        }

        /** Attaches {@code sink} to DDI port {@code port} (0 = A). */
        void attach(int port, AuxSink sink) {
            sinks[port] = requireNonNull(sink, "sink is null");
        }

        @Override
        public int read(int offset) {
            return mmio.get(offset);
        }

        @Override
        public void write(int offset, int value) {
            int old = mmio.get(offset);
            int stored = (value & ~STICKY) | (old & STICKY & ~value);
            if ((value & AUX_SEND_BUSY) == 0) {
                mmio.set(offset, stored);
                return;
            }
            int port = (offset - AUX_CTL_A) >>> 8;
            int size = (value & AUX_MESSAGE_SIZE_MASK) >>> AUX_MESSAGE_SIZE_SHIFT;
            int reply = sinks[port].transact(port, mmio, offset + 4, size);
            int done = (stored & ~(AUX_SEND_BUSY | STICKY | AUX_MESSAGE_SIZE_MASK)) | AUX_DONE;
            if (reply == AuxSink.NO_REPLY) {
                done |= AUX_TIME_OUT_ERROR;
            } else {
                done |= (Math.clamp(reply, 0, 20) << AUX_MESSAGE_SIZE_SHIFT) & AUX_MESSAGE_SIZE_MASK;
            }
            mmio.set(offset, done);
        }
    }
}
