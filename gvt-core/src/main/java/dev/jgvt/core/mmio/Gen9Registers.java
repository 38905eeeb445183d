package dev.jgvt.core.mmio;

/**
 * Gen9 (Skylake) register offsets and bits the Java handlers need by name. The register table itself is
 * data: {@code dev/jgvt/core/hw/gen9-registers.tsv} ({@link dev.jgvt.core.hw.RegisterTable}).
 */
public final class Gen9Registers {
    private Gen9Registers() {}

    // engine-relative offsets
    public static final int RING_TAIL = 0x30;
    public static final int RING_HEAD = 0x34;
    public static final int RING_START = 0x38;
    public static final int RING_CTL = 0x3C;
    public static final int RING_ACTHD = 0x74;
    /** ACTHD bits 47:32 (ring + 0x5C). */
    public static final int RING_ACTHD_UDW = 0x5C;
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
    public static final int GDRST_RENDER = 1 << 1;
    public static final int GDRST_MEDIA = 1 << 2;
    public static final int GDRST_BLT = 1 << 3;
    public static final int GDRST_VECS = 1 << 4;

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
}
