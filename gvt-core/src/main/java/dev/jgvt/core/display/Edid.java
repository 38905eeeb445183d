package dev.jgvt.core.display;

/**
 * Builds the virtual monitor's 128-byte EDID 1.4 base block for a resolution: a digital (DisplayPort)
 * monitor whose preferred detailed timing is the requested mode (1024x768 uses the VESA DMT timing,
 * other modes CVT reduced blanking at 60 Hz), plus name and range-limit descriptors.
 */
public final class Edid {
    public static final int SIZE = 128;
    private static final byte[] HEADER = {0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0};

    private Edid() {}

    /** The EDID block for a {@code width} x {@code height} monitor. */
    public static byte[] forResolution(int width, int height) {
        if (width <= 0 || width > 4095 || height <= 0 || height > 4095) {
            throw new IllegalArgumentException("resolution out of EDID range: " + width + "x" + height);
        }
        byte[] e = new byte[SIZE];
        System.arraycopy(HEADER, 0, e, 0, HEADER.length);
        // manufacturer "JGV" (5-bit letters, A = 1), product 0x1912, serial 0, week 1 of 2026
        int mfg = (('J' - '@') << 10) | (('G' - '@') << 5) | ('V' - '@');
        e[8] = (byte) (mfg >>> 8);
        e[9] = (byte) mfg;
        e[10] = 0x12;
        e[11] = 0x19;
        e[16] = 1;
        e[17] = (byte) (2026 - 1990);
        e[18] = 1;
        e[19] = 4;
        e[20] = (byte) 0xA5; // digital, 8 bits per colour, DisplayPort
        e[21] = 52; // cm
        e[22] = 32;
        e[23] = 120; // gamma 2.2
        e[24] = 0x06; // sRGB, preferred timing is native
        byte[] chroma = {(byte) 0xEE, (byte) 0x91, (byte) 0xA3, 0x54, 0x4C, (byte) 0x99, 0x26, 0x0F, 0x50, 0x54};
        System.arraycopy(chroma, 0, e, 25, chroma.length);
        e[35] = 0x21; // 640x480@60, 800x600@60
        e[36] = 0x08; // 1024x768@60
        for (int i = 38; i < 54; i++) {
            e[i] = 1; // unused standard timings
        }
        detailedTiming(e, 54, width, height);
        descriptor(e, 72, 0xFC, "jgvt vGPU\n");
        rangeLimits(e, 90);
        descriptor(e, 108, 0x10, "");
        e[126] = 0; // no extensions
        e[127] = checksumByte(e);
        return e;
    }

    /** Whether {@code edid} is a base block with the fixed header and a zero byte sum. */
    public static boolean isValid(byte[] edid, int length) {
        if (length < SIZE || edid.length < length || length % SIZE != 0) {
            return false;
        }
        for (int i = 0; i < HEADER.length; i++) {
            if (edid[i] != HEADER[i]) {
                return false;
            }
        }
        int sum = 0;
        for (int i = 0; i < SIZE; i++) {
            sum += edid[i] & 0xFF;
        }
        return (sum & 0xFF) == 0;
    }

    private static byte checksumByte(byte[] e) {
        int sum = 0;
        for (int i = 0; i < SIZE - 1; i++) {
            sum += e[i] & 0xFF;
        }
        return (byte) (-sum);
    }

    private static void detailedTiming(byte[] e, int at, int width, int height) {
        int hblank;
        int hso;
        int hsw;
        int vblank;
        int vso;
        int vsw;
        int flags;
        if (width == 1024 && height == 768) { // VESA DMT 1024x768@60
            hblank = 320;
            hso = 24;
            hsw = 136;
            vblank = 38;
            vso = 3;
            vsw = 6;
            flags = 0x18;
        } else { // CVT reduced blanking
            hblank = 160;
            hso = 48;
            hsw = 32;
            vso = 3;
            vsw = 6;
            // at least 460 us of vertical blanking at 60 Hz
            int lineTimeNs = (int) (1_000_000_000L / 60 / (height + 30));
            vblank = Math.max(vso + vsw + 6, (460_000 + lineTimeNs - 1) / lineTimeNs + 1);
            flags = 0x1A;
        }
        long clock = (long) (width + hblank) * (height + vblank) * 60;
        int clock10k = (int) ((clock + 5_000) / 10_000);
        e[at] = (byte) clock10k;
        e[at + 1] = (byte) (clock10k >>> 8);
        e[at + 2] = (byte) width;
        e[at + 3] = (byte) hblank;
        e[at + 4] = (byte) (((width >>> 8) & 0xF) << 4 | ((hblank >>> 8) & 0xF));
        e[at + 5] = (byte) height;
        e[at + 6] = (byte) vblank;
        e[at + 7] = (byte) (((height >>> 8) & 0xF) << 4 | ((vblank >>> 8) & 0xF));
        e[at + 8] = (byte) hso;
        e[at + 9] = (byte) hsw;
        e[at + 10] = (byte) ((vso & 0xF) << 4 | (vsw & 0xF));
        e[at + 11] = (byte) (((hso >>> 8) & 3) << 6 | ((hsw >>> 8) & 3) << 4 | ((vso >>> 4) & 3) << 2 | ((vsw >>> 4) & 3));
        e[at + 12] = (byte) 520; // mm, low 8 bits
        e[at + 13] = (byte) 325;
        e[at + 14] = (byte) ((520 >>> 8) << 4 | (325 >>> 8));
        e[at + 17] = (byte) flags;
    }

    private static void descriptor(byte[] e, int at, int tag, String text) {
        e[at + 3] = (byte) tag;
        for (int i = 0; i < 13; i++) {
            e[at + 5 + i] = tag == 0x10 ? 0 : (byte) (i < text.length() ? text.charAt(i) : ' ');
        }
    }

    private static void rangeLimits(byte[] e, int at) {
        e[at + 3] = (byte) 0xFD;
        e[at + 5] = 50; // min vertical Hz
        e[at + 6] = 75; // max vertical Hz
        e[at + 7] = 30; // min horizontal kHz
        e[at + 8] = (byte) 160; // max horizontal kHz
        e[at + 9] = 17; // max pixel clock / 10 MHz
        e[at + 10] = 0; // default GTF
        e[at + 11] = 0x0A;
        for (int i = 12; i < 18; i++) {
            e[at + i] = 0x20;
        }
    }
}
