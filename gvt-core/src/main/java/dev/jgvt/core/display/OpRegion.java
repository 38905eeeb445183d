package dev.jgvt.core.display;

import java.nio.charset.StandardCharsets;

/**
 * The vGPU's generated 8 KiB IGD OpRegion: header "IntelGraphicsMem", size 8 (KiB), version 2.0, mailbox
 * flags advertising only the VBT, lid open (CLID), and a minimal VBT at 0x400 (VBT header version 155,
 * BDB version 186, no blocks). Also the answers to SWSCI requests, which GVT-g gives through the guest's
 * copy of this region: only "query supported calls" of GBDA and SBCB succeed (reporting nothing supported).
 */
public final class OpRegion {
    public static final int SIZE = 8192;
    public static final String SIGNATURE = "IntelGraphicsMem";
    public static final int SIZE_FIELD = 0x10;
    public static final int VERSION_FIELD = 0x14;
    public static final int MBOX_FIELD = 0x58;
    public static final int MBOX_VBT = 1 << 3;
    public static final int CLID = 0x1AC;
    public static final int SCIC = 0x200;
    public static final int PARM = 0x204;
    public static final int VBT = 0x400;
    /** SCIC function GBDA (get BIOS data) and SBCB (system BIOS callbacks). */
    public static final int FUNCTION_GBDA = 4;
    public static final int FUNCTION_SBCB = 6;
    /** SCIC bits 7:5: exit status; bit 0: the request indicator. */
    public static final int SCIC_EXIT_STATUS = 0x7 << 5;
    public static final int SCIC_EXIT_SUCCESS = 1 << 5;

    private OpRegion() {}

    /** The power-on contents. */
    public static byte[] create() {
        byte[] r = new byte[SIZE];
        byte[] sig = SIGNATURE.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(sig, 0, r, 0, sig.length);
        putInt(r, SIZE_FIELD, SIZE / 1024);
        putInt(r, VERSION_FIELD, 0x02000000);
        putInt(r, MBOX_FIELD, MBOX_VBT);
        putInt(r, CLID, 3);
        // VBT header
        byte[] vbtSig = "$VBT SKYLAKE        ".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(vbtSig, 0, r, VBT, 20);
        int headerSize = 0x30;
        int bdbSize = 22;
        int vbtSize = headerSize + bdbSize;
        putShort(r, VBT + 0x14, 155);
        putShort(r, VBT + 0x16, headerSize);
        putShort(r, VBT + 0x18, vbtSize);
        putInt(r, VBT + 0x1C, headerSize);
        int bdb = VBT + headerSize;
        byte[] bdbSig = "BIOS_DATA_BLOCK ".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bdbSig, 0, r, bdb, 16);
        putShort(r, bdb + 16, 186);
        putShort(r, bdb + 18, bdbSize);
        putShort(r, bdb + 20, bdbSize);
        int sum = 0;
        for (int i = 0; i < vbtSize; i++) {
            sum += r[VBT + i] & 0xFF;
        }
        r[VBT + 0x1A] = (byte) -sum;
        return r;
    }

    /**
     * GVT-g's SWSCI answer for a request {@code scic} (with {@code parm}): returns {@code {scic, parm}} to
     * write back. "Query supported calls" (sub-function 0) of GBDA or SBCB succeeds with nothing supported
     * (both 0); every other request gets its exit status cleared (failure).
     */
    public static int[] answerSwsci(int scic, int parm) {
        int function = (scic >>> 1) & 0xF;
        int subFunction = (scic >>> 8) & 0xFF;
        if ((function == FUNCTION_GBDA || function == FUNCTION_SBCB) && subFunction == 0) {
            return new int[] {0, 0};
        }
        return new int[] {scic & ~SCIC_EXIT_STATUS & ~1, parm};
    }

    static void putInt(byte[] b, int at, int v) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    static void putShort(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }
}
