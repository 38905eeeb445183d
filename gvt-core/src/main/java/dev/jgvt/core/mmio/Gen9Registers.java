package dev.jgvt.core.mmio;

import static dev.jgvt.core.mmio.Attr.CMD_ACCESS;
import static dev.jgvt.core.mmio.Attr.GM_ADDRESS;
import static dev.jgvt.core.mmio.Attr.IN_CONTEXT;
import static dev.jgvt.core.mmio.Attr.MODE_MASK;
import static dev.jgvt.core.mmio.Attr.READ_ONLY;
import static dev.jgvt.core.mmio.Attr.WRITE_1_CLEAR;

import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;

/**
 * The Gen9 (Skylake) register table: what a guest driver touches to bring the GPU up, submit work through
 * execlists, take interrupts and show a primary plane and a cursor on pipe A. One row per register or range.
 * Names follow intel-gpu-tools' register lists where those define the register.
 */
public final class Gen9Registers {
    private Gen9Registers() {}

    // engine-relative offsets
    public static final int RING_TAIL = 0x30;
    public static final int RING_HEAD = 0x34;
    public static final int RING_START = 0x38;
    public static final int RING_CTL = 0x3C;
    public static final int RING_ACTHD = 0x74;
    public static final int RING_HWS_PGA = 0x80;
    public static final int RING_IMR = 0xA8;
    public static final int RING_ELSP = 0x230;
    public static final int RING_EXECLIST_STATUS = 0x234;
    public static final int RING_CTX_CTRL = 0x244;
    public static final int RING_PDP = 0x270;
    public static final int RING_MODE = 0x29C;
    public static final int RING_TIMESTAMP = 0x358;
    public static final int RING_CSB = 0x370;
    public static final int RING_CSB_PTR = 0x3A0;

    /** RING_MODE bit 15: execlist (run list) submission enabled. */
    public static final int RING_MODE_RUN_LIST_ENABLE = 1 << 15;

    public static final int GDRST = 0x941C;
    public static final int GDRST_FULL = 1;

    public static final int FORCEWAKE_RENDER = 0xA278;
    public static final int FORCEWAKE_MEDIA = 0xA270;
    public static final int FORCEWAKE_BLITTER = 0xA188;
    public static final int FORCEWAKE_ACK_RENDER = 0x0D84;
    public static final int FORCEWAKE_ACK_MEDIA = 0x0D88;
    public static final int FORCEWAKE_ACK_BLITTER = 0x130044;
    public static final int GT_THREAD_STATUS = 0x13805C;
    public static final int PCODE_MAILBOX = 0x138124;
    public static final int PCODE_DATA = 0x138128;
    public static final int PCODE_DATA1 = 0x13812C;
    public static final int FENCE_BASE = 0x100000;
    public static final int PWR_WELL_BIOS = 0x45400;
    public static final int PWR_WELL_DRIVER = 0x45404;

    public static final int MASTER_IRQ = 0x44200;

    public static final int PIPEACONF = 0x70008;
    public static final int PIPEASRC = 0x6001C;
    public static final int PIPE_FRMCOUNT_A = 0x70040;
    public static final int PIPE_FLIPCOUNT_A = 0x70044;
    public static final int PLANE_CTL_1_A = 0x70180;
    public static final int PLANE_STRIDE_1_A = 0x70188;
    public static final int PLANE_POS_1_A = 0x7018C;
    public static final int PLANE_SIZE_1_A = 0x70190;
    public static final int PLANE_SURF_1_A = 0x7019C;
    public static final int PLANE_OFFSET_1_A = 0x701A4;
    public static final int PLANE_SURFLIVE_1_A = 0x701AC;
    public static final int CUR_CTL_A = 0x70080;
    public static final int CUR_BASE_A = 0x70084;
    public static final int CUR_POS_A = 0x70088;
    public static final int CUR_SURFLIVE_A = 0x700AC;

    public static final int PVINFO_PAGE = 0x78000;

    private static final List<Register> TABLE = build();

    /** Every row, in table order. */
    public static List<Register> table() {
        return TABLE;
    }

    private static List<Register> build() {
        List<Register> t = new ArrayList<>();
        for (Engine e : Engine.GT2) {
            int b = e.mmioBase();
            String p = e.registerPrefix();
            t.add(reg(p + "_RING_TAIL", b + RING_TAIL, Behavior.STORE, IN_CONTEXT));
            t.add(reg(p + "_RING_HEAD", b + RING_HEAD, Behavior.STORE, IN_CONTEXT));
            t.add(reg(p + "_RING_START", b + RING_START, Behavior.STORE, IN_CONTEXT, GM_ADDRESS));
            t.add(reg(p + "_RING_CTL", b + RING_CTL, Behavior.STORE, IN_CONTEXT));
            t.add(reg(p + "_INSTDONE", b + 0x6C, Behavior.READ_ZERO, READ_ONLY));
            t.add(reg(p + "_RING_ACTHD", b + RING_ACTHD, Behavior.STORE, READ_ONLY));
            t.add(reg(p + "_HWS_PGA", b + RING_HWS_PGA, Behavior.STORE, GM_ADDRESS));
            t.add(reg(e.hwstamName(), b + 0x98, Behavior.STORE));
            t.add(reg(e.miModeName(), b + 0x9C, Behavior.STORE, MODE_MASK, CMD_ACCESS, IN_CONTEXT));
            t.add(reg(p + "_IMR", b + RING_IMR, Behavior.STORE, IN_CONTEXT));
            t.add(reg(p + "_INSTPM", b + 0xC0, Behavior.STORE, MODE_MASK, CMD_ACCESS, IN_CONTEXT));
            t.add(reg(p + "_BBADDR", b + 0x140, Behavior.STORE, READ_ONLY));
            t.add(reg(p + "_ELSP", b + RING_ELSP, Behavior.ELSP));
            t.add(reg(p + "_EXECLIST_STATUS_LO", b + RING_EXECLIST_STATUS, Behavior.STORE, READ_ONLY));
            t.add(reg(p + "_EXECLIST_STATUS_HI", b + RING_EXECLIST_STATUS + 4, Behavior.STORE, READ_ONLY));
            t.add(reg(p + "_CTX_CTRL", b + RING_CTX_CTRL, Behavior.STORE, MODE_MASK, IN_CONTEXT));
            t.add(range(p + "_PDP", b + RING_PDP, 8, 4, Behavior.STORE, CMD_ACCESS, IN_CONTEXT));
            t.add(reg(e.ringModeName(), b + RING_MODE, Behavior.RING_MODE, MODE_MASK));
            t.add(reg(p + "_TIMESTAMP", b + RING_TIMESTAMP, Behavior.STORE, READ_ONLY, CMD_ACCESS));
            t.add(reg(p + "_TIMESTAMP_UDW", b + RING_TIMESTAMP + 4, Behavior.STORE, READ_ONLY, CMD_ACCESS));
            t.add(range(p + "_CSB", b + RING_CSB, 12, 4, Behavior.STORE, READ_ONLY));
            t.add(reg(p + "_CSB_PTR", b + RING_CSB_PTR, Behavior.STORE, MODE_MASK, IN_CONTEXT));
        }
        t.add(reg("GFX_MODE", 0x2520, Behavior.STORE, MODE_MASK));
        t.add(reg("ERROR_GEN6", 0x40A0, Behavior.STORE, WRITE_1_CLEAR));
        t.add(reg("PRIVATE_PAT1", 0x40E0, Behavior.STORE));
        t.add(reg("PRIVATE_PAT2", 0x40E4, Behavior.STORE));
        t.add(reg("GEN8_RTCR", 0x4260, Behavior.TLB_INVALIDATE));
        t.add(reg("GEN8_M1TCR", 0x4264, Behavior.TLB_INVALIDATE));
        t.add(reg("GEN8_M2TCR", 0x4268, Behavior.TLB_INVALIDATE));
        t.add(reg("GEN8_BTCR", 0x426C, Behavior.TLB_INVALIDATE));
        t.add(reg("GEN8_VTCR", 0x4270, Behavior.TLB_INVALIDATE));
        t.add(reg("CACHE_MODE_0_GEN7", 0x7000, Behavior.STORE, MODE_MASK, CMD_ACCESS, IN_CONTEXT));
        t.add(reg("CACHE_MODE_1", 0x7004, Behavior.STORE, MODE_MASK, CMD_ACCESS, IN_CONTEXT));
        t.add(reg("GEN7_GT_MODE", 0x7008, Behavior.STORE, MODE_MASK, CMD_ACCESS, IN_CONTEXT));
        t.add(reg("COMMON_SLICE_CHICKEN2", 0x7014, Behavior.STORE, MODE_MASK, CMD_ACCESS, IN_CONTEXT));
        t.add(reg("HDC_CHICKEN0", 0x7300, Behavior.STORE, MODE_MASK, CMD_ACCESS, IN_CONTEXT));
        t.add(reg("GEN6_GDRST", GDRST, Behavior.GDRST));
        t.add(reg("GEN6_PMINTRMSK", 0xA168, Behavior.STORE));
        t.add(reg("FORCEWAKE_RENDER_GEN9", FORCEWAKE_RENDER, Behavior.FORCEWAKE, MODE_MASK));
        t.add(reg("FORCEWAKE_MEDIA_GEN9", FORCEWAKE_MEDIA, Behavior.FORCEWAKE, MODE_MASK));
        t.add(reg("FORCEWAKE_BLITTER_GEN9", FORCEWAKE_BLITTER, Behavior.FORCEWAKE, MODE_MASK));
        t.add(reg("FORCEWAKE_ACK_RENDER_GEN9", FORCEWAKE_ACK_RENDER, Behavior.STORE, READ_ONLY));
        t.add(reg("FORCEWAKE_ACK_MEDIA_GEN9", FORCEWAKE_ACK_MEDIA, Behavior.STORE, READ_ONLY));
        t.add(reg("FORCEWAKE_ACK_BLITTER_GEN9", FORCEWAKE_ACK_BLITTER, Behavior.STORE, READ_ONLY));
        t.add(reg("GEN6_GT_THREAD_STATUS_REG", GT_THREAD_STATUS, Behavior.READ_ZERO, READ_ONLY));
        t.add(reg("GEN6_PCODE_MAILBOX", PCODE_MAILBOX, Behavior.PCU_MAILBOX));
        t.add(reg("GEN6_PCODE_DATA", PCODE_DATA, Behavior.STORE));
        t.add(reg("GEN6_PCODE_DATA1", PCODE_DATA1, Behavior.STORE));
        t.add(range("FENCE_REG_GEN6_LO", FENCE_BASE, 32, 8, Behavior.FENCE));
        t.add(range("FENCE_REG_GEN6_HI", FENCE_BASE + 4, 32, 8, Behavior.FENCE));
        t.add(reg("GFX_FLSH_CNTL_GEN6", 0x101008, Behavior.STORE));

        // interrupts (GEN8+ hierarchy)
        t.add(reg("GEN8_MASTER_IRQ", MASTER_IRQ, Behavior.INTERRUPT));
        for (int i = 0; i < 4; i++) {
            group(t, "GEN8_GT_%s" + i, 0x44300 + 0x10 * i);
        }
        for (int i = 0; i < 3; i++) {
            group(t, "GEN8_DE_PIPE_%s" + i, 0x44400 + 0x10 * i);
        }
        group(t, "GEN8_DE_PORT_%s", 0x44440);
        group(t, "GEN8_DE_MISC_%s", 0x44460);
        group(t, "GEN8_PCU_%s", 0x444E0);
        t.add(reg("DERRMR", 0x44050, Behavior.STORE, CMD_ACCESS));

        // power wells
        t.add(reg("PWR_WELL_BIOS", PWR_WELL_BIOS, Behavior.POWER_WELL));
        t.add(reg("PWR_WELL_DRIVER", PWR_WELL_DRIVER, Behavior.POWER_WELL));

        // display: transcoder/pipe A timings, pipe A, primary plane 1, cursor A
        t.add(reg("TRANS_HTOTAL_A", 0x60000, Behavior.STORE));
        t.add(reg("TRANS_HBLANK_A", 0x60004, Behavior.STORE));
        t.add(reg("TRANS_HSYNC_A", 0x60008, Behavior.STORE));
        t.add(reg("TRANS_VTOTAL_A", 0x6000C, Behavior.STORE));
        t.add(reg("TRANS_VBLANK_A", 0x60010, Behavior.STORE));
        t.add(reg("TRANS_VSYNC_A", 0x60014, Behavior.STORE));
        t.add(reg("PIPEASRC", PIPEASRC, Behavior.STORE));
        t.add(reg("TRANS_DDI_FUNC_CTL_A", 0x60400, Behavior.STORE));
        t.add(reg("PIPEACONF", PIPEACONF, Behavior.PIPECONF));
        t.add(reg("PIPE_FRMCOUNT_A", PIPE_FRMCOUNT_A, Behavior.STORE, READ_ONLY));
        t.add(reg("PIPE_FLIPCOUNT_A", PIPE_FLIPCOUNT_A, Behavior.STORE, READ_ONLY));
        t.add(reg("CUR_CTL_A", CUR_CTL_A, Behavior.STORE));
        t.add(reg("CUR_BASE_A", CUR_BASE_A, Behavior.PLANE_SURFACE, GM_ADDRESS));
        t.add(reg("CUR_POS_A", CUR_POS_A, Behavior.STORE));
        t.add(reg("CUR_SURFLIVE_A", CUR_SURFLIVE_A, Behavior.STORE, READ_ONLY));
        t.add(reg("PLANE_CTL_1_A", PLANE_CTL_1_A, Behavior.STORE));
        t.add(reg("PLANE_STRIDE_1_A", PLANE_STRIDE_1_A, Behavior.STORE));
        t.add(reg("PLANE_POS_1_A", PLANE_POS_1_A, Behavior.STORE));
        t.add(reg("PLANE_SIZE_1_A", PLANE_SIZE_1_A, Behavior.STORE));
        t.add(reg("PLANE_SURF_1_A", PLANE_SURF_1_A, Behavior.PLANE_SURFACE, GM_ADDRESS));
        t.add(reg("PLANE_OFFSET_1_A", PLANE_OFFSET_1_A, Behavior.STORE));
        t.add(reg("PLANE_SURFLIVE_1_A", PLANE_SURFLIVE_1_A, Behavior.STORE, READ_ONLY));

        // PVINFO page fields
        for (PvInfo.Field f : PvInfo.Field.values()) {
            t.add(new Register(f.registerName(), PVINFO_PAGE + f.offset(), f.count(), 4, EnumSet.noneOf(Attr.class),
                    Behavior.PVINFO, 0));
        }
        return Collections.unmodifiableList(t);
    }

    private static void group(List<Register> t, String pattern, int base) {
        t.add(reg(String.format(pattern, "ISR"), base, Behavior.INTERRUPT, READ_ONLY));
        t.add(reg(String.format(pattern, "IMR"), base + 4, Behavior.INTERRUPT));
        t.add(reg(String.format(pattern, "IIR"), base + 8, Behavior.INTERRUPT, WRITE_1_CLEAR));
        t.add(reg(String.format(pattern, "IER"), base + 12, Behavior.INTERRUPT));
    }

    private static Register reg(String name, int offset, Behavior behavior, Attr... attrs) {
        return new Register(name, offset, 1, 4, set(attrs), behavior, 0);
    }

    private static Register range(String name, int offset, int count, int stride, Behavior behavior, Attr... attrs) {
        return new Register(name, offset, count, stride, set(attrs), behavior, 0);
    }

    private static EnumSet<Attr> set(Attr... attrs) {
        EnumSet<Attr> set = EnumSet.noneOf(Attr.class);
        Collections.addAll(set, attrs);
        return set;
    }
}
