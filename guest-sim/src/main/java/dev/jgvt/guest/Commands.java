package dev.jgvt.guest;

/**
 * Encoders for the Gen9 commands the guest submits, written from the command formats: an MI command's header
 * is {@code opcode << 23 | (length - 2)}, a 2D (blitter) command's is {@code 2 << 29 | opcode << 22 |
 * (length - 2)}, PIPE_CONTROL is 3D type 3, subtype 3, opcode 2. Every method returns the command's dwords.
 * Addresses are 48-bit graphics addresses (low dword, then bits 47:32).
 */
final class Commands {
    static final int MI_NOOP = 0;
    static final int MI_USER_INTERRUPT = 0x02 << 23;
    static final int MI_ARB_CHECK = 0x05 << 23;
    static final int MI_BATCH_BUFFER_END = 0x0A << 23;
    static final int MI_STORE_DATA_IMM = 0x20 << 23;
    static final int MI_LOAD_REGISTER_IMM = 0x22 << 23;
    static final int MI_STORE_REGISTER_MEM = 0x24 << 23;
    static final int MI_FLUSH_DW = 0x26 << 23;
    static final int MI_BATCH_BUFFER_START = 0x31 << 23;
    static final int PIPE_CONTROL = (3 << 29) | (3 << 27) | (2 << 24);
    static final int XY_SETUP_BLT = blitHeader(0x01);
    static final int XY_FAST_COPY_BLT = blitHeader(0x42);
    static final int XY_COLOR_BLT = blitHeader(0x50);
    static final int XY_SRC_COPY_BLT = blitHeader(0x53);

    /** MI: "use global GTT" (MI_STORE_DATA_IMM, MI_STORE_REGISTER_MEM). */
    static final int USE_GGTT = 1 << 22;
    /** MI_BATCH_BUFFER_START DW0: the batch is in the PPGTT (non-privileged). */
    static final int BATCH_PPGTT = 1 << 8;
    /** MI_FLUSH_DW DW0 bits 15:14 / PIPE_CONTROL DW1 bits 15:14 = 1: write the immediate data. */
    static final int POST_SYNC_WRITE_IMMEDIATE = 1 << 14;
    /** MI_FLUSH_DW DW1 bit 2: the post-sync address is in the GGTT. */
    static final int FLUSH_DW_GGTT = 1 << 2;
    /** PIPE_CONTROL DW1 bit 24: the post-sync address is in the GGTT; bit 20: command streamer stall. */
    static final int PIPE_CONTROL_GGTT = 1 << 24;
    static final int PIPE_CONTROL_CS_STALL = 1 << 20;
    /** MI_FLUSH_DW DW0 bit 8 / PIPE_CONTROL DW1 bit 8: raise the engine's notify interrupt. */
    static final int NOTIFY = 1 << 8;
    /** 32-bit blits: DW0 bit 21 writes alpha, bit 20 writes RGB. */
    static final int BLT_WRITE_ALPHA = 1 << 21;
    static final int BLT_WRITE_RGB = 1 << 20;
    /** BR13: colour depth 32 bpp (bits 25:24 = 3) and the raster operations. */
    static final int BR13_32BPP = 3 << 24;
    static final int ROP_PATCOPY = 0xF0 << 16;
    static final int ROP_SRCCOPY = 0xCC << 16;
    /** XY_FAST_COPY_BLT DW1 bits 26:24 = 3: 32 bpp. */
    static final int FAST_COPY_32BPP = 3 << 24;

    private Commands() {}

    private static int blitHeader(int opcode) {
        return (2 << 29) | (opcode << 22);
    }

    static int low(long address) {
        return (int) address;
    }

    static int high(long address) {
        return (int) ((address >>> 32) & 0xFFFF);
    }

    static int[] noop() {
        return new int[] {MI_NOOP};
    }

    static int[] userInterrupt() {
        return new int[] {MI_USER_INTERRUPT};
    }

    static int[] arbCheck() {
        return new int[] {MI_ARB_CHECK};
    }

    static int[] batchBufferEnd() {
        return new int[] {MI_BATCH_BUFFER_END};
    }

    /** A first-level batch call; {@code ppgtt} = the batch is a PPGTT address, else a GGTT (privileged) one. */
    static int[] batchBufferStart(long address, boolean ppgtt) {
        requireAligned(address, 4, "batch");
        return new int[] {MI_BATCH_BUFFER_START | (ppgtt ? BATCH_PPGTT : 0) | 1, low(address), high(address)};
    }

    /** Stores one dword. */
    static int[] storeDataImm(long address, boolean ggtt, int value) {
        requireAligned(address, 4, "store");
        return new int[] {MI_STORE_DATA_IMM | (ggtt ? USE_GGTT : 0) | 2, low(address), high(address), value};
    }

    /** Loads (register, value) pairs. */
    static int[] loadRegisterImm(int... registerValuePairs) {
        if (registerValuePairs.length == 0 || registerValuePairs.length % 2 != 0) {
            throw new IllegalArgumentException("register/value pairs expected, got " + registerValuePairs.length + " dwords");
        }
        int[] cmd = new int[1 + registerValuePairs.length];
        cmd[0] = MI_LOAD_REGISTER_IMM | (cmd.length - 2);
        System.arraycopy(registerValuePairs, 0, cmd, 1, registerValuePairs.length);
        return cmd;
    }

    /** Stores a register's value in memory. */
    static int[] storeRegisterMem(int register, long address, boolean ggtt) {
        requireAligned(address, 4, "register store");
        return new int[] {MI_STORE_REGISTER_MEM | (ggtt ? USE_GGTT : 0) | 2, register, low(address), high(address)};
    }

    /** MI_FLUSH_DW whose post-sync operation writes {@code value} (one dword) at {@code address}. */
    static int[] flushDwStore(long address, boolean ggtt, int value) {
        return flushDwStore(address, ggtt, value, false);
    }

    /** The same, and with {@code notify} the engine's MI_FLUSH_DW notify interrupt. */
    static int[] flushDwStore(long address, boolean ggtt, int value, boolean notify) {
        requireAligned(address, 8, "post-sync");
        return new int[] {MI_FLUSH_DW | POST_SYNC_WRITE_IMMEDIATE | (notify ? NOTIFY : 0) | 2, low(address) | (ggtt ? FLUSH_DW_GGTT : 0),
            high(address), value};
    }

    /** PIPE_CONTROL (command-streamer stall) whose post-sync operation writes the qword {@code high:low}. */
    static int[] pipeControlStore(long address, boolean ggtt, int lowValue, int highValue) {
        return pipeControlStore(address, ggtt, lowValue, highValue, false);
    }

    /** The same, and with {@code notify} the render engine's PIPE_CONTROL notify interrupt. */
    static int[] pipeControlStore(long address, boolean ggtt, int lowValue, int highValue, boolean notify) {
        requireAligned(address, 8, "post-sync");
        return new int[] {PIPE_CONTROL | 4,
            PIPE_CONTROL_CS_STALL | POST_SYNC_WRITE_IMMEDIATE | (ggtt ? PIPE_CONTROL_GGTT : 0) | (notify ? NOTIFY : 0),
            low(address), high(address), lowValue, highValue};
    }

    /**
     * XY_SETUP_BLT with a 32-bpp solid pattern: sets the blitter's state (clip rectangle, colours, destination);
     * the drawing commands below carry everything they need themselves.
     */
    static int[] setupBlt(long destination, int pitch, int colour) {
        return new int[] {XY_SETUP_BLT | BLT_WRITE_ALPHA | BLT_WRITE_RGB | 8, BR13_32BPP | ROP_PATCOPY | pitch(pitch),
            0, 0, low(destination), high(destination), colour, colour, 0, 0};
    }

    /** Fills [x, x+w) x [y, y+h) of a linear 32-bpp surface with {@code colour}. */
    static int[] colorBlt(long destination, int pitch, int x, int y, int w, int h, int colour) {
        return new int[] {XY_COLOR_BLT | BLT_WRITE_ALPHA | BLT_WRITE_RGB | 5, BR13_32BPP | ROP_PATCOPY | pitch(pitch),
            point(x, y), point(x + w, y + h), low(destination), high(destination), colour};
    }

    /** Copies a w x h rectangle of 32-bpp pixels from (sx, sy) of the source to (x, y) of the destination. */
    static int[] srcCopyBlt(long destination, int pitch, int x, int y, int w, int h, long source, int sourcePitch,
            int sx, int sy) {
        return new int[] {XY_SRC_COPY_BLT | BLT_WRITE_ALPHA | BLT_WRITE_RGB | 8, BR13_32BPP | ROP_SRCCOPY | pitch(pitch),
            point(x, y), point(x + w, y + h), low(destination), high(destination), point(sx, sy), pitch(sourcePitch),
            low(source), high(source)};
    }

    /** The same copy with XY_FAST_COPY_BLT (linear surfaces, 32 bpp). */
    static int[] fastCopyBlt(long destination, int pitch, int x, int y, int w, int h, long source, int sourcePitch,
            int sx, int sy) {
        return new int[] {XY_FAST_COPY_BLT | 8, FAST_COPY_32BPP | pitch(pitch), point(x, y), point(x + w, y + h),
            low(destination), high(destination), point(sx, sy), pitch(sourcePitch), low(source), high(source)};
    }

    private static int point(int x, int y) {
        if (x < 0 || y < 0 || x > 0x7FFF || y > 0x7FFF) {
            throw new IllegalArgumentException("blit coordinate (" + x + ", " + y + ") out of range");
        }
        return (y << 16) | x;
    }

    private static int pitch(int pitch) {
        if (pitch <= 0 || pitch > 0x7FFF) {
            throw new IllegalArgumentException("pitch " + pitch + " out of range");
        }
        return pitch;
    }

    private static void requireAligned(long address, int alignment, String what) {
        if (address % alignment != 0 || address < 0 || address >>> 48 != 0) {
            throw new IllegalArgumentException(String.format("%s address 0x%x is not %d-aligned in 48 bits", what, address, alignment));
        }
    }
}
