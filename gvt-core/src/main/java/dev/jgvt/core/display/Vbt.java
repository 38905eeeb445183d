package dev.jgvt.core.display;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Builds the vGPU's Video BIOS Table: what a Skylake system's VBIOS tells i915 about the board's display ports.
 * Layout from the public VBT definitions (a 48-byte VBT header, a 22-byte BDB header, then data blocks of
 * {@code id, u16 size, data}); the content describes exactly one port, the DisplayPort the virtual monitor is on
 * (DDI D, AUX channel D, hotplug capable), and no internal panel, so i915 neither probes a phantom eDP on port A
 * nor falls back to its default all-ports layout.
 *
 * <p>Each structure is a table of {@link Field}s (offset, width, value); the builder lays them out little-endian.
 */
public final class Vbt {
    /** The BDB version the blocks follow (child device entries of 38 bytes, BDB 196..215). */
    public static final int BDB_VERSION = 211;
    public static final int VBT_HEADER_SIZE = 48;
    public static final int BDB_HEADER_SIZE = 22;
    public static final int CHILD_DEVICE_SIZE = 38;
    static final int BLOCK_GENERAL_FEATURES = 1;
    static final int BLOCK_GENERAL_DEFINITIONS = 2;
    /** Device type bits: a hotplug-capable external DisplayPort (no TMDS, not an internal connector). */
    public static final int DEVICE_TYPE_DP = 0x68C6;
    /** DVO port codes (BDB 155+) and AUX channel codes of port D. */
    public static final int DVO_PORT_DPD = 9;
    public static final int AUX_CH_D = 0x30;
    /** The child device handle of the first external flat panel (digital) port. */
    public static final int DEVICE_HANDLE_EFP1 = 0x0004;

    /** One little-endian field of a structure: {@code width} bytes (1, 2 or 4) at {@code offset}. */
    record Field(String name, int offset, int width, long value) {}

    /** The VBT header (the BDB follows it at once; no add-in blocks). */
    private static List<Field> vbtHeader(int vbtSize) {
        return List.of(
                new Field("version", 20, 2, 100),
                new Field("header_size", 22, 2, VBT_HEADER_SIZE),
                new Field("vbt_size", 24, 2, vbtSize),
                new Field("bdb_offset", 28, 4, VBT_HEADER_SIZE));
    }

    private static List<Field> bdbHeader(int bdbSize) {
        return List.of(
                new Field("version", 16, 2, BDB_VERSION),
                new Field("header_size", 18, 2, BDB_HEADER_SIZE),
                new Field("bdb_size", 20, 2, bdbSize));
    }

    /** General features: seven bytes of flags (the BDB 211 size), all clear (no CRT, no TV, no SSC). */
    private static final int GENERAL_FEATURES_SIZE = 7;

    /** General definitions header: CRT DDC pin, DPMS flags, boot display, child device size; children follow. */
    private static List<Field> generalDefinitions() {
        return List.of(new Field("child_dev_size", 4, 1, CHILD_DEVICE_SIZE));
    }

    private static final int GENERAL_DEFINITIONS_HEADER = 5;

    /** The one child device: an external DP connector on DDI D. */
    static List<Field> dpChild(int handle) {
        return List.of(
                new Field("handle", 0, 2, handle),
                new Field("device_type", 2, 2, DEVICE_TYPE_DP),
                new Field("dvo_port", 16, 1, DVO_PORT_DPD),
                new Field("dp_support", 24, 1, 1 << 1),
                new Field("aux_channel", 25, 1, AUX_CH_D));
    }

    private Vbt() {}

    /** The complete VBT (header, BDB header, blocks), with a checksum making its bytes sum to zero. */
    public static byte[] build() {
        ByteArrayOutputStream blocks = new ByteArrayOutputStream();
        block(blocks, BLOCK_GENERAL_FEATURES, new byte[GENERAL_FEATURES_SIZE]);
        byte[] defs = new byte[GENERAL_DEFINITIONS_HEADER + CHILD_DEVICE_SIZE];
        put(defs, 0, generalDefinitions());
        put(defs, GENERAL_DEFINITIONS_HEADER, dpChild(DEVICE_HANDLE_EFP1));
        block(blocks, BLOCK_GENERAL_DEFINITIONS, defs);
        int bdbSize = BDB_HEADER_SIZE + blocks.size();
        int vbtSize = VBT_HEADER_SIZE + bdbSize;
        byte[] vbt = new byte[vbtSize];
        ascii(vbt, 0, "$VBT SKYLAKE", 20);
        put(vbt, 0, vbtHeader(vbtSize));
        ascii(vbt, VBT_HEADER_SIZE, "BIOS_DATA_BLOCK ", 16);
        put(vbt, VBT_HEADER_SIZE, bdbHeader(bdbSize));
        System.arraycopy(blocks.toByteArray(), 0, vbt, VBT_HEADER_SIZE + BDB_HEADER_SIZE, blocks.size());
        int sum = 0;
        for (byte b : vbt) {
            sum += b & 0xFF;
        }
        vbt[26] = (byte) -sum; // vbt_checksum
        return vbt;
    }

    private static void block(ByteArrayOutputStream out, int id, byte[] data) {
        out.write(id);
        out.write(data.length & 0xFF);
        out.write(data.length >>> 8);
        out.writeBytes(data);
    }

    static void put(byte[] into, int base, List<Field> fields) {
        for (Field f : fields) {
            for (int i = 0; i < f.width(); i++) {
                into[base + f.offset() + i] |= (byte) (f.value() >>> (8 * i));
            }
        }
    }

    private static void ascii(byte[] into, int at, String text, int width) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < width; i++) {
            into[at + i] = i < b.length ? b[i] : (byte) ' ';
        }
    }
}
