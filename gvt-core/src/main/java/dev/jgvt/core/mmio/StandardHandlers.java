package dev.jgvt.core.mmio;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.CsTimestamp;
import dev.jgvt.core.hw.Engine;
import java.util.function.IntConsumer;

/**
 * The handlers of GVT-g's fake-hardware registers that need nothing but the register file: forcewake
 * (acks follow requests), GDRST (reset request, reads back 0), the PCU mailbox (always ready), fences
 * (index limited to the vGPU's fences), power wells (state follows request), TLB invalidation (done at
 * once), read-as-zero status, the ELSP latch, RING_RESET_CTL (ready as soon as a reset is requested), and
 * the display's fake hardware ({@link DisplayHandlers}).
 */
public final class StandardHandlers {
    private static final Engine[] ENGINES = Engine.values();
    /** PCODE mailbox: bit 31 is "busy/ready" (set by the driver to start, cleared when done). */
    public static final int PCODE_READY = 1 << 31;
    /** On completion the low byte is the error code (0: success). */
    public static final int PCODE_ERROR_MASK = 0xFF;
    public static final int PCODE_READ_RC6VIDS = 0x5;
    public static final int PCODE_READ_MEM_LATENCY = 0x6;
    public static final int PCODE_CDCLK_CONTROL = 0x7;
    /** SKL SAGV control; data 0 asks to disable SAGV, the reply 1 (in DATA) says it is disabled. */
    public static final int PCODE_SAGV_CONTROL = 0x21;
    public static final int SAGV_DISABLE = 0x0;
    public static final int SAGV_IS_DISABLED = 0x1;
    /** RING_RESET_CTL (engine base + 0xD0): bit 0 request reset, bit 1 ready to reset. */
    public static final int RING_RESET_CTL = 0xD0;
    public static final int RESET_CTL_REQUEST_RESET = 1;
    public static final int RESET_CTL_READY_TO_RESET = 1 << 1;

    private StandardHandlers() {}

    /**
     * Binds every standard behaviour of {@code mmio}.
     *
     * @param fenceCount how many fences the vGPU owns (guest fence indices {@code [0, fenceCount)})
     * @param resetRequest called with GDRST's domain mask after a guest reset request
     * @param elsp receives complete ELSP submissions
     */
    public static void bind(MmioSpace mmio, int fenceCount, IntConsumer resetRequest, ElspListener elsp) {
        requireNonNull(mmio, "mmio is null");
        requireNonNull(resetRequest, "resetRequest is null");
        requireNonNull(elsp, "elsp is null");
        mmio.bind(Behavior.READ_ZERO, new ReadZero(mmio));
        mmio.bind(Behavior.TIMESTAMP, new Timestamp());
        mmio.bind(Behavior.TLB_INVALIDATE, new ReadZero(mmio));
        mmio.bind(Behavior.FORCEWAKE, new Forcewake(mmio));
        mmio.bind(Behavior.GDRST, new Gdrst(mmio, resetRequest));
        mmio.bind(Behavior.PCU_MAILBOX, new PcuMailbox(mmio));
        mmio.bind(Behavior.FENCE, new Fences(mmio, fenceCount));
        mmio.bind(Behavior.POWER_WELL, new PowerWell(mmio));
        mmio.bind(Behavior.ELSP, new ElspLatch(mmio, elsp));
        mmio.bind(Behavior.RING_RESET_CTL, new RingResetCtl(mmio));
        DisplayHandlers.bind(mmio);
    }

    /** RING_RESET_CTL: mode-masked; READY_TO_RESET reads set exactly while REQUEST_RESET is set. */
    record RingResetCtl(MmioSpace mmio) implements RegisterHandler.Stored {
        @Override
        public void write(int offset, int value) {
            int merged = mmio.merge(offset, value);
            mmio.set(offset, (merged & RESET_CTL_REQUEST_RESET) != 0 ? merged | RESET_CTL_READY_TO_RESET
                    : merged & ~RESET_CTL_READY_TO_RESET);
        }
    }

    /**
     * RING_TIMESTAMP (engine base + 0x358) and its upper dword (+0x35C): the host's command-streamer clock, which
     * the software GPU's engines read too; writes are ignored (the register is read-only on hardware).
     */
    record Timestamp() implements RegisterHandler {
        @Override
        public int read(int offset) {
            long now = CsTimestamp.now();
            return (offset & 0xFFF) == Gen9Registers.RING_TIMESTAMP + 4 ? (int) (now >>> 32) : (int) now;
        }

        @Override
        public void write(int offset, int value) {
            // read-only
        }
    }

    /** Reads 0; writes are accepted and counted. */
    record ReadZero(MmioSpace mmio) implements RegisterHandler {
        @Override
        public int read(int offset) {
            return 0;
        }

        @Override
        public void write(int offset, int value) {
            mmio.set(offset, value);
        }
    }

    /** Forcewake request (mode-masked): the matching ack register takes the request's value at once. */
    record Forcewake(MmioSpace mmio) implements RegisterHandler.Stored {
        @Override
        public void write(int offset, int value) {
            int merged = mmio.merge(offset, value);
            mmio.set(offset, merged);
            int ack = switch (offset) {
                case Gen9Registers.FORCEWAKE_RENDER -> Gen9Registers.FORCEWAKE_ACK_RENDER;
                case Gen9Registers.FORCEWAKE_MEDIA -> Gen9Registers.FORCEWAKE_ACK_MEDIA;
                default -> Gen9Registers.FORCEWAKE_ACK_BLITTER;
            };
            mmio.set(ack, merged);
        }
    }

    /** GDRST: hands the domain mask to the vGPU's reset and reads back 0 (reset complete). */
    record Gdrst(MmioSpace mmio, IntConsumer resetRequest) implements RegisterHandler {
        @Override
        public int read(int offset) {
            return 0;
        }

        @Override
        public void write(int offset, int value) {
            if (value != 0) {
                resetRequest.accept(value);
            }
        }
    }

    /**
     * The pcode mailbox: every command completes at once with success; memory latency, CDCLK control and
     * RC6 VIDs get GVT-g's answers, SAGV disable answers "disabled".
     */
    record PcuMailbox(MmioSpace mmio) implements RegisterHandler.Stored {
        @Override
        public void write(int offset, int value) {
            if ((value & PCODE_READY) == 0) {
                mmio.set(offset, value);
                return;
            }
            int data = mmio.get(Gen9Registers.PCODE_DATA);
            switch (value & 0xFF) {
                case PCODE_READ_MEM_LATENCY -> mmio.set(Gen9Registers.PCODE_DATA, data == 0 ? 0x1E1A1100 : 0x61514B3D);
                case PCODE_CDCLK_CONTROL -> mmio.set(Gen9Registers.PCODE_DATA, 1); // ready for change
                case PCODE_READ_RC6VIDS -> mmio.set(Gen9Registers.PCODE_DATA, data | 1);
                case PCODE_SAGV_CONTROL -> {
                    if (data == SAGV_DISABLE) {
                        mmio.set(Gen9Registers.PCODE_DATA, SAGV_IS_DISABLED);
                    }
                }
                default -> { }
            }
            mmio.set(offset, value & ~PCODE_READY & ~PCODE_ERROR_MASK); // done; error code 0 = success
        }
    }

    /** Fence halves: guest index {@code i < fenceCount} is stored; beyond that reads 0 and writes drop. */
    record Fences(MmioSpace mmio, int fenceCount) implements RegisterHandler {
        @Override
        public int read(int offset) {
            if (index(offset) >= fenceCount) {
                mmio.logDropped(offset, "read of fence " + index(offset) + " beyond the vGPU's " + fenceCount + " fences");
                return 0;
            }
            return mmio.get(offset);
        }

        @Override
        public void write(int offset, int value) {
            if (index(offset) >= fenceCount) {
                mmio.logDropped(offset, "write to fence " + index(offset) + " beyond the vGPU's " + fenceCount + " fences");
                return;
            }
            mmio.set(offset, value);
        }

        private static int index(int offset) {
            return (offset - Gen9Registers.FENCE_BASE) >>> 3;
        }
    }

    /** Power-well control: each well's state bit (2i) follows its request bit (2i + 1). */
    record PowerWell(MmioSpace mmio) implements RegisterHandler {
        private static final int REQUESTS = 0xAAAAAAAA;

        @Override
        public int read(int offset) {
            return mmio.get(offset);
        }

        @Override
        public void write(int offset, int value) {
            int requests = value & REQUESTS;
            mmio.set(offset, requests | (requests >>> 1));
        }
    }

    /** The ELSP latch: four dword writes make a submission; reads return 0. */
    static final class ElspLatch implements RegisterHandler {
        private final MmioSpace mmio;
        private final ElspListener listener;
        private final int[][] latched = new int[Engine.values().length][4];
        private final int[] counts = new int[Engine.values().length];

        ElspLatch(MmioSpace mmio, ElspListener listener) {
            this.mmio = mmio;
            this.listener = listener;
        }

        @Override
        public int read(int offset) {
            return 0;
        }

        @Override
        public void write(int offset, int value) {
            Engine engine = engineOf(offset - Gen9Registers.RING_ELSP);
            if (engine == null) {
                mmio.logDropped(offset, "ELSP write for an unknown engine");
                return;
            }
            int e = engine.ordinal();
            latched[e][counts[e]++] = value;
            if (counts[e] == 4) {
                counts[e] = 0;
                long element1 = (latched[e][1] & 0xFFFFFFFFL) | ((long) latched[e][0] << 32);
                long element0 = (latched[e][3] & 0xFFFFFFFFL) | ((long) latched[e][2] << 32);
                listener.submitted(engine, element0, element1);
            }
        }
    }

    static Engine engineOf(int base) {
        for (Engine engine : ENGINES) {
            if (engine.mmioBase() == base) {
                return engine;
            }
        }
        return null;
    }
}
