package dev.jgvt.core.display;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.mmio.AuxSink;
import dev.jgvt.core.mmio.MmioSpace;

/**
 * The virtual DisplayPort monitor on the vGPU's DP port, as GVT-g presents one: a DP 1.2 sink without a branch
 * device whose DPCD answers native AUX reads and writes, and whose EDID answers I2C-over-AUX at the DDC address
 * 0x50 (segment pointer 0x30). Link training succeeds at once: the link status registers (DPCD 0x202-0x207) always
 * report clock recovery, channel equalisation, symbol lock and inter-lane alignment on all four lanes, with no
 * adjustment requested. Writes to the sink's configuration (link rate, lane count, training pattern, power state)
 * are stored and read back. Addresses outside the modelled DPCD read as zero and drop writes, as unimplemented
 * DPCD does on real sinks.
 *
 * <p>Allocation-free per transaction; runs under the vGPU's lock (called from the AUX channel handler).
 */
public final class DpMonitor implements AuxSink {
    /** DPCD bytes modelled: receiver capabilities (0x000), link configuration (0x100), status (0x200), OUIs, power (0x600). */
    static final int DPCD_SIZE = 0x800;
    static final int DPCD_REV = 0x000;
    static final int MAX_LINK_RATE = 0x001;
    static final int MAX_LANE_COUNT = 0x002;
    static final int SINK_COUNT = 0x200;
    static final int LANE0_1_STATUS = 0x202;
    static final int LANE2_3_STATUS = 0x203;
    static final int LANE_ALIGN_STATUS = 0x204;
    static final int SINK_STATUS = 0x205;
    static final int SET_POWER = 0x600;
    /** DP 1.2; HBR2 (5.4 Gb/s); 4 lanes, enhanced framing, TPS3. */
    static final int REV_1_2 = 0x12;
    static final int RATE_HBR2 = 0x14;
    static final int LANES_4_ENHANCED_TPS3 = 0xC4;
    /** Per lane pair: CR done, EQ done, symbol locked for both lanes. */
    static final int LANES_TRAINED = 0x77;
    static final int INTERLANE_ALIGN_DONE = 0x01;
    /** AUX request commands (high nibble of the first byte). */
    static final int NATIVE_WRITE = 0x8;
    static final int NATIVE_READ = 0x9;
    static final int I2C_WRITE = 0x0;
    static final int I2C_READ = 0x1;
    static final int I2C_WRITE_STATUS = 0x2;
    static final int I2C_MOT = 0x4;
    /** Reply first bytes: native and I2C ACK, native NACK, I2C NACK. */
    static final int REPLY_ACK = 0x00;
    static final int REPLY_NATIVE_NACK = 0x10;
    static final int REPLY_I2C_NACK = 0x40;
    static final int DDC_ADDRESS = 0x50;
    static final int DDC_SEGMENT = 0x30;
    private static final int MAX_PAYLOAD = 16;

    private final byte[] dpcd = new byte[DPCD_SIZE];
    private final byte[] edid;
    private final byte[] request = new byte[20];
    private final byte[] reply = new byte[20];
    private int edidOffset;
    private int edidSegment;
    private long transactions;

    /** A monitor whose EDID is {@code edid} (one or more 128-byte blocks). */
    public DpMonitor(byte[] edid) {
        requireNonNull(edid, "edid is null");
        if (!Edid.isValid(edid, edid.length)) {
            throw new IllegalArgumentException("not a valid EDID of " + edid.length + " bytes");
        }
        this.edid = edid.clone();
        reset();
    }

    /** A monitor offering {@code width} x {@code height} as its preferred mode. */
    public static DpMonitor forResolution(int width, int height) {
        return new DpMonitor(Edid.forResolution(width, height));
    }

    /** Back to the power-on DPCD (sink configuration cleared) and the DDC offset 0. */
    public void reset() {
        java.util.Arrays.fill(dpcd, (byte) 0);
        dpcd[DPCD_REV] = REV_1_2;
        dpcd[MAX_LINK_RATE] = RATE_HBR2;
        dpcd[MAX_LANE_COUNT] = (byte) LANES_4_ENHANCED_TPS3;
        dpcd[0x003] = 0x01; // MAX_DOWNSPREAD: 0.5 % down-spread
        dpcd[0x004] = 0x01; // NORP: one receiver port
        dpcd[0x006] = 0x01; // MAIN_LINK_CHANNEL_CODING: 8b/10b
        dpcd[0x008] = 0x02; // RECEIVE_PORT0_CAP_0: local EDID present
        dpcd[SINK_COUNT] = 1;
        dpcd[LANE0_1_STATUS] = LANES_TRAINED;
        dpcd[LANE2_3_STATUS] = LANES_TRAINED;
        dpcd[LANE_ALIGN_STATUS] = INTERLANE_ALIGN_DONE;
        dpcd[SINK_STATUS] = 0x03; // receive ports 0 and 1 in sync
        dpcd[SET_POWER] = 1; // D0
        edidOffset = 0;
        edidSegment = 0;
    }

    /** The DPCD byte at {@code address} (0 outside the modelled range). */
    public int dpcd(int address) {
        return address >= 0 && address < DPCD_SIZE ? dpcd[address] & 0xFF : 0;
    }

    /** AUX transactions answered so far. */
    public long transactions() {
        return transactions;
    }

    @Override
    public int transact(int port, MmioSpace mmio, int dataOffset, int requestSize) {
        if (requestSize < 3 || requestSize > request.length) {
            return NO_REPLY;
        }
        transactions++;
        for (int i = 0; i < requestSize; i++) {
            request[i] = (byte) (mmio.get(dataOffset + (i & ~3)) >>> (24 - 8 * (i & 3)));
        }
        int command = (request[0] >>> 4) & 0xF;
        int address = ((request[0] & 0xF) << 16) | ((request[1] & 0xFF) << 8) | (request[2] & 0xFF);
        int length = requestSize > 3 ? (request[3] & 0xFF) + 1 : 0;
        int replySize;
        if ((command & NATIVE_WRITE) != 0) {
            replySize = command == NATIVE_READ ? nativeRead(address, length)
                    : command == NATIVE_WRITE ? nativeWrite(address, length, requestSize) : nack(REPLY_NATIVE_NACK);
        } else {
            replySize = i2c(command, address, length, requestSize);
        }
        for (int i = 0; i < replySize; i += 4) {
            int dw = 0;
            for (int b = 0; b < 4; b++) {
                dw |= (i + b < replySize ? reply[i + b] & 0xFF : 0) << (24 - 8 * b);
            }
            mmio.set(dataOffset + i, dw);
        }
        return replySize;
    }

    private int nack(int code) {
        reply[0] = (byte) code;
        return 1;
    }

    private int nativeRead(int address, int length) {
        if (length == 0 || length > MAX_PAYLOAD) {
            return nack(REPLY_NATIVE_NACK);
        }
        reply[0] = REPLY_ACK;
        for (int i = 0; i < length; i++) {
            reply[1 + i] = (byte) dpcd(address + i);
        }
        return 1 + length;
    }

    private int nativeWrite(int address, int length, int requestSize) {
        if (length == 0 || requestSize < 4 + length) {
            return nack(REPLY_NATIVE_NACK);
        }
        for (int i = 0; i < length; i++) {
            int a = address + i;
            if (writable(a)) {
                dpcd[a] = request[4 + i];
            }
        }
        reply[0] = REPLY_ACK;
        return 1;
    }

    /** The sink's configuration fields (0x100-0x1FF) and SET_POWER; capabilities and status are read-only. */
    private static boolean writable(int address) {
        return (address >= 0x100 && address < 0x200) || address == SET_POWER;
    }

    private int i2c(int command, int address, int length, int requestSize) {
        int op = command & ~I2C_MOT;
        boolean ddc = address == DDC_ADDRESS;
        if (!ddc && address != DDC_SEGMENT) {
            return nack(REPLY_I2C_NACK);
        }
        if (length == 0) { // address-only start or stop
            if ((command & I2C_MOT) == 0 && !ddc) {
                edidSegment = 0;
            }
            return nack(REPLY_ACK);
        }
        switch (op) {
            case I2C_WRITE, I2C_WRITE_STATUS -> {
                if (op == I2C_WRITE && requestSize >= 5) {
                    if (ddc) {
                        edidOffset = request[4] & 0xFF;
                    } else {
                        edidSegment = request[4] & 0x7F;
                    }
                }
                return nack(REPLY_ACK);
            }
            case I2C_READ -> {
                if (!ddc || length > MAX_PAYLOAD) {
                    return nack(REPLY_I2C_NACK);
                }
                reply[0] = REPLY_ACK;
                int base = edidSegment * 256;
                for (int i = 0; i < length; i++) {
                    int at = base + ((edidOffset + i) & 0xFF);
                    reply[1 + i] = at < edid.length ? edid[at] : 0;
                }
                edidOffset = (edidOffset + length) & 0xFF;
                return 1 + length;
            }
            default -> {
                return nack(REPLY_I2C_NACK);
            }
        }
    }
}
