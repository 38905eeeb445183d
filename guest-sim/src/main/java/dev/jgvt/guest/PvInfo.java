package dev.jgvt.guest;

/**
 * The paravirtual info page a vGPU exposes at BAR0 + 0x78000 (Linux {@code i915_pvinfo.h}): how the guest
 * learns it runs on a vGPU and which parts of graphics memory and which fences it may use ("ballooning").
 *
 * @param vgpuId the vGPU id
 * @param caps capability bits (bit 2 full PPGTT, bit 3 HWSP emulation, bit 4 huge GTT pages)
 * @param apertureBase start of the guest's slice of the aperture (mappable GM)
 * @param apertureSize its size
 * @param hiddenBase start of the guest's slice of hidden (non-mappable) GM
 * @param hiddenSize its size
 * @param fences number of fence registers the guest owns
 */
public record PvInfo(int vgpuId, int caps, long apertureBase, long apertureSize, long hiddenBase, long hiddenSize,
        int fences) {
    static final long PAGE = 0x78000;
    static final long MAGIC = 0x4776544776544776L;
    static final int MAGIC_OFFSET = 0x00;
    static final int VERSION_MAJOR = 0x08;
    static final int VERSION_MINOR = 0x0A;
    static final int VGT_ID = 0x0C;
    static final int CAPS = 0x10;
    static final int APERTURE_BASE = 0x40;
    static final int APERTURE_SIZE = 0x44;
    static final int HIDDEN_BASE = 0x48;
    static final int HIDDEN_SIZE = 0x4C;
    static final int FENCE_NUM = 0x50;
    static final int DISPLAY_READY = 0x804;
    static final int G2V_NOTIFY = 0x818;
    static final int PDP0_LO = 0x838;
    static final int G2V_PPGTT_L3_CREATE = 2;
    static final int G2V_PPGTT_L3_DESTROY = 3;
    static final int G2V_PPGTT_L4_CREATE = 4;
    static final int G2V_PPGTT_L4_DESTROY = 5;

    public static final int CAP_FULL_PPGTT = 1 << 2;
    public static final int CAP_HWSP_EMULATION = 1 << 3;
    public static final int CAP_HUGE_GTT = 1 << 4;

    /** Reads the page; fails if the magic or the version is not that of a GVT-g vGPU. */
    public static PvInfo read(GuestPlatform platform) {
        long magic = platform.mmioRead(GuestPlatform.BAR0, PAGE + MAGIC_OFFSET, 8);
        if (magic != MAGIC) {
            throw new GuestException(String.format("PVINFO magic is 0x%016x, not 0x%016x: not a vGPU", magic, MAGIC));
        }
        long major = platform.mmioRead(GuestPlatform.BAR0, PAGE + VERSION_MAJOR, 2);
        long minor = platform.mmioRead(GuestPlatform.BAR0, PAGE + VERSION_MINOR, 2);
        if (major != 1) {
            throw new GuestException("PVINFO version " + major + "." + minor + " is not 1.x");
        }
        return new PvInfo(
                (int) platform.mmioRead(GuestPlatform.BAR0, PAGE + VGT_ID, 4),
                (int) platform.mmioRead(GuestPlatform.BAR0, PAGE + CAPS, 4),
                platform.mmioRead(GuestPlatform.BAR0, PAGE + APERTURE_BASE, 4),
                platform.mmioRead(GuestPlatform.BAR0, PAGE + APERTURE_SIZE, 4),
                platform.mmioRead(GuestPlatform.BAR0, PAGE + HIDDEN_BASE, 4),
                platform.mmioRead(GuestPlatform.BAR0, PAGE + HIDDEN_SIZE, 4),
                (int) platform.mmioRead(GuestPlatform.BAR0, PAGE + FENCE_NUM, 4));
    }

    public boolean has(int cap) {
        return (caps & cap) == cap;
    }

    /** Tells the host the guest's display is set up. */
    static void signalDisplayReady(GuestPlatform platform) {
        platform.mmioWrite(GuestPlatform.BAR0, PAGE + DISPLAY_READY, 4, 1);
    }
}
