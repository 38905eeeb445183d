package dev.jgvt.plugin.xen;

import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenDeviceModelOps;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MMIO ranges this binding's ioreq server claims: each memory BAR of the vGPU (BAR0 registers + GGTT,
 * BAR2 aperture) at the guest physical address the guest programmed, while memory decoding is on. Xen's
 * {@code set_trap_area}: re-evaluated after every guest write to the command register or a BAR; a moved
 * BAR is unmapped and mapped again (ranges are inclusive). Used by the ioreq thread only (and by attach
 * before that thread starts).
 */
final class BarClaims {
    private static final Logger log = LoggerFactory.getLogger(BarClaims.class);
    static final int NONE = -1;

    private final XenDeviceModelOps deviceModel;
    private final int domid;
    private final int server;
    private final long[] size = new long[6];
    private final long[] base = new long[6];
    private final boolean[] claimed = new boolean[6];

    BarClaims(XenDeviceModelOps deviceModel, int domid, int server, DeviceLayout layout) {
        this.deviceModel = deviceModel;
        this.domid = domid;
        this.server = server;
        for (int bar = 0; bar < 6; bar++) {
            int index = bar;
            size[bar] = layout.region(index).map(DeviceLayout.Region::size).orElse(0L);
        }
    }

    /** Whether a config write at {@code [offset, offset + size)} touches the command register or a BAR. */
    static boolean touches(int offset, int size) {
        return (offset < 0x06 && offset + size > 0x04) || (offset < 0x28 && offset + size > 0x10);
    }

    /** Reads command and BARs through the device model and moves the claims to match. */
    void update(DeviceModel device) {
        boolean decode = (device.read(DeviceLayout.CONFIG, 0x04, 2) & 0x2) != 0;
        for (int bar = 0; bar < 6; bar++) {
            if (size[bar] == 0) {
                continue;
            }
            long low = device.read(DeviceLayout.CONFIG, 0x10 + 4 * bar, 4) & 0xFFFF_FFFFL;
            if ((low & 1) != 0) {
                continue;
            }
            long address = low & ~0xFL;
            if ((low & 0x6) == 0x4 && bar < 5) {
                address |= (device.read(DeviceLayout.CONFIG, 0x14 + 4 * bar, 4) & 0xFFFF_FFFFL) << 32;
            }
            boolean valid = decode && address != 0 && (address & (size[bar] - 1)) == 0 && address + size[bar] > address;
            if (valid && claimed[bar] && base[bar] == address) {
                continue;
            }
            release(bar);
            if (valid) {
                try {
                    deviceModel.mapIoRangeToIoreqServer(domid, server, true, address, address + size[bar] - 1);
                    base[bar] = address;
                    claimed[bar] = true;
                } catch (XenCallException e) {
                    log.warn("dom{}: cannot claim BAR{} at 0x{} (+0x{}): {}", domid, bar, Long.toHexString(address),
                            Long.toHexString(size[bar]), e.getMessage());
                }
            }
        }
    }

    private void release(int bar) {
        if (!claimed[bar]) {
            return;
        }
        claimed[bar] = false;
        try {
            deviceModel.unmapIoRangeFromIoreqServer(domid, server, true, base[bar], base[bar] + size[bar] - 1);
        } catch (XenCallException e) {
            log.debug("dom{}: unclaiming BAR{}: {}", domid, bar, e.getMessage());
        }
    }

    /** The BAR whose claim holds {@code gpa}, or {@link #NONE}. */
    int bar(long gpa) {
        for (int bar = 0; bar < 6; bar++) {
            if (claimed[bar] && gpa - base[bar] >= 0 && gpa - base[bar] < size[bar]) {
                return bar;
            }
        }
        return NONE;
    }

    long base(int bar) {
        return base[bar];
    }

    boolean claimed(int bar) {
        return claimed[bar];
    }

    void releaseAll() {
        for (int bar = 0; bar < 6; bar++) {
            release(bar);
        }
    }
}
