package dev.jgvt.core.display;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;

/**
 * The VFIO GFX EDID region ({@code struct vfio_region_gfx_edid}): six dword registers at the start
 * (edid_offset, edid_max_size, edid_size, max_xres, max_yres, link_state) and the EDID blob at 2048.
 * The VMM sets the link down, writes a blob and its size, and sets the link up; the blob is validated then.
 * Register accesses must be aligned dwords; edid_size and link_state are the only writable registers.
 * Errors are the VMM's and throw {@link GvtException}.
 */
public final class EdidRegion {
    public static final int BLOB_OFFSET = 2048;
    public static final int SIZE = BLOB_OFFSET + Edid.SIZE;
    public static final int EDID_OFFSET = 0x0;
    public static final int EDID_MAX_SIZE = 0x4;
    public static final int EDID_SIZE = 0x8;
    public static final int MAX_XRES = 0xC;
    public static final int MAX_YRES = 0x10;
    public static final int LINK_STATE = 0x14;
    public static final int LINK_UP = 1;
    public static final int LINK_DOWN = 2;

    private final int maxX;
    private final int maxY;
    private final byte[] blob = new byte[Edid.SIZE];
    private int edidSize;
    private int linkState;
    /** The EDID the virtual monitor presents while the link is up. */
    private byte[] active;

    public EdidRegion(int maxX, int maxY) {
        this.maxX = maxX;
        this.maxY = maxY;
        reset();
    }

    /** Power-on: the built-in EDID for the type's resolution, link up. */
    public void reset() {
        active = Edid.forResolution(maxX, maxY);
        System.arraycopy(active, 0, blob, 0, Edid.SIZE);
        edidSize = Edid.SIZE;
        linkState = LINK_UP;
    }

    /** The EDID the monitor presents, or empty (length 0) while the link is down. */
    public byte[] edid() {
        return linkState == LINK_UP ? active.clone() : new byte[0];
    }

    public boolean linkUp() {
        return linkState == LINK_UP;
    }

    public long read(long offset, int size) {
        if (offset >= BLOB_OFFSET) {
            long value = 0;
            for (int i = 0; i < size; i++) {
                value |= (blob[(int) offset - BLOB_OFFSET + i] & 0xFFL) << (8 * i);
            }
            return value;
        }
        return switch (register(offset, size)) {
            case EDID_OFFSET -> BLOB_OFFSET;
            case EDID_MAX_SIZE -> Edid.SIZE;
            case EDID_SIZE -> edidSize;
            case MAX_XRES -> maxX;
            case MAX_YRES -> maxY;
            case LINK_STATE -> linkState;
            default -> 0;
        };
    }

    public void write(long offset, int size, long value) {
        if (offset >= BLOB_OFFSET) {
            for (int i = 0; i < size; i++) {
                blob[(int) offset - BLOB_OFFSET + i] = (byte) (value >>> (8 * i));
            }
            return;
        }
        int register = register(offset, size);
        int v = (int) value;
        switch (register) {
            case EDID_SIZE -> {
                if (v < 0 || v > Edid.SIZE) {
                    throw new GvtException(ErrorCode.INVALID_ARGUMENT, "edid_size " + v + " exceeds edid_max_size " + Edid.SIZE);
                }
                edidSize = v;
            }
            case LINK_STATE -> {
                if (v == LINK_UP) {
                    if (!Edid.isValid(blob, edidSize)) {
                        throw new GvtException(ErrorCode.INVALID_ARGUMENT,
                                "EDID blob of " + edidSize + " bytes is not a valid EDID (header or checksum)");
                    }
                    active = java.util.Arrays.copyOf(blob, Edid.SIZE);
                } else if (v != LINK_DOWN) {
                    throw new GvtException(ErrorCode.INVALID_ARGUMENT, "link_state " + v + " is neither 1 (up) nor 2 (down)");
                }
                linkState = v;
            }
            default -> throw new GvtException(ErrorCode.PERMISSION_DENIED,
                    "EDID region register at 0x" + Long.toHexString(offset) + " is read-only");
        }
    }

    private static int register(long offset, int size) {
        if (size != 4 || (offset & 3) != 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "EDID region registers take aligned 4-byte accesses: offset 0x"
                    + Long.toHexString(offset) + ", size " + size);
        }
        return (int) offset;
    }
}
