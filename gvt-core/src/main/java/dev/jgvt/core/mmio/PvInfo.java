package dev.jgvt.core.mmio;

import static java.util.Objects.requireNonNull;

/**
 * The PVINFO page at BAR0 0x78000 (GVT-g's {@code i915_pvinfo.h}): the host tells the guest which graphics
 * memory and fences it owns (ballooning), the guest tells the host about PPGTTs and contexts. The lower half
 * is host → guest (read-only for the guest), the upper half (0x800+) guest → host.
 */
public final class PvInfo implements RegisterHandler {
    public static final long MAGIC = 0x4776544776544776L;
    public static final int VERSION_MAJOR = 1;
    public static final int VERSION_MINOR = 0;
    public static final int CAP_FULL_PPGTT = 1 << 2;
    public static final int CAP_HWSP_EMULATION = 1 << 3;
    public static final int CAP_HUGE_GTT = 1 << 4;
    /** g2v_notify codes. */
    public static final int G2V_PPGTT_L3_CREATE = 2;
    public static final int G2V_PPGTT_L3_DESTROY = 3;
    public static final int G2V_PPGTT_L4_CREATE = 4;
    public static final int G2V_PPGTT_L4_DESTROY = 5;
    public static final int G2V_EXECLIST_CONTEXT_CREATE = 6;
    public static final int G2V_EXECLIST_CONTEXT_DESTROY = 7;

    /** What the guest is told it owns: its aperture and hidden GM ranges and its fence count. */
    public record Ballooning(long apertureBase, long apertureSize, long hiddenBase, long hiddenSize, int fences) {}

    /** The fields, with their offsets inside the page and dword counts. */
    public enum Field {
        MAGIC(0x00, 2, false),
        VERSION(0x08, 1, false),
        VGT_ID(0x0C, 1, false),
        VGT_CAPS(0x10, 1, false),
        APERTURE_BASE(0x40, 1, false),
        APERTURE_SIZE(0x44, 1, false),
        HIDDEN_BASE(0x48, 1, false),
        HIDDEN_SIZE(0x4C, 1, false),
        FENCE_NUM(0x50, 1, false),
        DISPLAY_READY(0x804, 1, true),
        RSV5(0x808, 4, true),
        G2V_NOTIFY(0x818, 1, true),
        CURSOR_X_HOT(0x830, 1, true),
        CURSOR_Y_HOT(0x834, 1, true),
        PDP(0x838, 8, true),
        EXECLIST_CONTEXT_DESCRIPTOR(0x858, 2, true);

        private final int offset;
        private final int count;
        private final boolean guestWritable;

        Field(int offset, int count, boolean guestWritable) {
            this.offset = offset;
            this.count = count;
            this.guestWritable = guestWritable;
        }

        public int offset() {
            return offset;
        }

        public int count() {
            return count;
        }

        public boolean guestWritable() {
            return guestWritable;
        }

        /** The row name in the register table. */
        public String registerName() {
            return "PVINFO_" + name();
        }
    }

    private final MmioSpace mmio;
    private final int vgpuId;
    private final Ballooning ballooning;
    private PvNotificationListener listener = PvNotificationListener.NONE;
    private boolean notified;

    public PvInfo(MmioSpace mmio, int vgpuId, Ballooning ballooning) {
        this.mmio = requireNonNull(mmio, "mmio is null");
        this.vgpuId = vgpuId;
        this.ballooning = requireNonNull(ballooning, "ballooning is null");
        reset();
    }

    public void setListener(PvNotificationListener listener) {
        this.listener = requireNonNull(listener, "listener is null");
    }

    /** Fills the host → guest half and clears the guest → host half (power-on state). */
    public void reset() {
        int page = Gen9Registers.PVINFO_PAGE;
        for (int off = 0; off < 4096; off += 4) {
            mmio.set(page + off, 0);
        }
        mmio.set(page + Field.MAGIC.offset, (int) MAGIC);
        mmio.set(page + Field.MAGIC.offset + 4, (int) (MAGIC >>> 32));
        mmio.set(page + Field.VERSION.offset, VERSION_MAJOR | VERSION_MINOR << 16);
        mmio.set(page + Field.VGT_ID.offset, vgpuId);
        mmio.set(page + Field.VGT_CAPS.offset, CAP_FULL_PPGTT | CAP_HWSP_EMULATION | CAP_HUGE_GTT);
        mmio.set(page + Field.APERTURE_BASE.offset, (int) ballooning.apertureBase());
        mmio.set(page + Field.APERTURE_SIZE.offset, (int) ballooning.apertureSize());
        mmio.set(page + Field.HIDDEN_BASE.offset, (int) ballooning.hiddenBase());
        mmio.set(page + Field.HIDDEN_SIZE.offset, (int) ballooning.hiddenSize());
        mmio.set(page + Field.FENCE_NUM.offset, ballooning.fences());
        mmio.set(page + Field.CURSOR_X_HOT.offset, -1);
        mmio.set(page + Field.CURSOR_Y_HOT.offset, -1);
        notified = false;
    }

    /** Whether the guest has read PVINFO since the last reset (GVT-g's {@code pv_notified}). */
    public boolean notified() {
        return notified;
    }

    @Override
    public int read(int offset) {
        notified = true;
        return mmio.get(offset);
    }

    @Override
    public void write(int offset, int value) {
        int rel = offset - Gen9Registers.PVINFO_PAGE;
        if (rel < 0x800) {
            mmio.logDropped(offset, "write to a host-owned PVINFO field");
            return;
        }
        mmio.set(offset, value);
        if (rel == Field.DISPLAY_READY.offset) {
            listener.displayReady(value);
        } else if (rel >= Field.RSV5.offset && rel < Field.RSV5.offset + 16) {
            listener.ballooningFailed(value);
        } else if (rel == Field.G2V_NOTIFY.offset) {
            notify(value);
        }
    }

    private void notify(int code) {
        int page = Gen9Registers.PVINFO_PAGE;
        switch (code) {
            case G2V_PPGTT_L3_CREATE, G2V_PPGTT_L3_DESTROY, G2V_PPGTT_L4_CREATE, G2V_PPGTT_L4_DESTROY -> {
                long[] pdps = new long[4];
                for (int i = 0; i < 4; i++) {
                    int at = page + Field.PDP.offset + 8 * i;
                    pdps[i] = (mmio.get(at) & 0xFFFFFFFFL) | ((long) mmio.get(at + 4) << 32);
                }
                boolean create = code == G2V_PPGTT_L3_CREATE || code == G2V_PPGTT_L4_CREATE;
                int levels = code <= G2V_PPGTT_L3_DESTROY ? 3 : 4;
                listener.ppgtt(create, levels, pdps);
            }
            case G2V_EXECLIST_CONTEXT_CREATE, G2V_EXECLIST_CONTEXT_DESTROY -> {
                int at = page + Field.EXECLIST_CONTEXT_DESCRIPTOR.offset;
                long descriptor = (mmio.get(at) & 0xFFFFFFFFL) | ((long) mmio.get(at + 4) << 32);
                listener.execlistContext(code == G2V_EXECLIST_CONTEXT_CREATE, descriptor);
            }
            default -> {
                mmio.logDropped(page + Field.G2V_NOTIFY.offset, "unknown g2v notification " + code);
                listener.unknownNotification(code);
            }
        }
    }

    /** The cursor hotspot the guest set, or -1 per coordinate if it never did. */
    public int cursorHotX() {
        return mmio.get(Gen9Registers.PVINFO_PAGE + Field.CURSOR_X_HOT.offset);
    }

    public int cursorHotY() {
        return mmio.get(Gen9Registers.PVINFO_PAGE + Field.CURSOR_Y_HOT.offset);
    }
}
