package dev.jgvt.plugin.xen;

import dev.jgvt.plugin.xen.lib.XenDeviceModelOps;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InterruptSink;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MSI through {@code inject_msi}, gated on the vGPU's virtual MSI capability. The capability (id 5) is
 * found once by walking the vGPU's config-space capability list; its control word (cap + 2), address
 * (cap + 4, and cap + 8 for the high half when control bit 7 says 64-bit) and data (cap + 8 or cap + 12)
 * are re-read through the {@link DeviceModel} after every guest config write, on the ioreq thread, and
 * published as one immutable snapshot. {@link #signalMsi()} then needs no call into the device model:
 * it never blocks and is safe from any thread. With MSI disabled, or without an MSI capability, the signal
 * is dropped and counted.
 */
final class MsiGate implements InterruptSink {
    private static final Logger log = LoggerFactory.getLogger(MsiGate.class);
    private static final int CAP_ID_MSI = 0x05;

    private final XenDeviceModelOps deviceModel;
    private final int domid;
    private final int capability;
    private volatile Msi msi = new Msi(false, 0, 0);
    private final AtomicLong injected = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    /** What the guest programmed. */
    record Msi(boolean enabled, long address, int data) {}

    MsiGate(XenDeviceModelOps deviceModel, int domid, DeviceModel device) {
        this.deviceModel = deviceModel;
        this.domid = domid;
        this.capability = findMsiCapability(device);
        refresh(device);
    }

    static int findMsiCapability(DeviceModel device) {
        long status = device.read(DeviceLayout.CONFIG, 0x06, 2);
        if ((status & 0x10) == 0) {
            return -1;
        }
        int pointer = (int) device.read(DeviceLayout.CONFIG, 0x34, 1) & 0xFC;
        for (int hops = 0; pointer >= 0x40 && hops < 48; hops++) {
            if ((device.read(DeviceLayout.CONFIG, pointer, 1) & 0xFF) == CAP_ID_MSI) {
                return pointer;
            }
            pointer = (int) device.read(DeviceLayout.CONFIG, pointer + 1, 1) & 0xFC;
        }
        return -1;
    }

    int capability() {
        return capability;
    }

    /** Whether a config write at {@code [offset, offset + size)} may have changed the MSI capability. */
    boolean touches(int offset, int size) {
        return capability >= 0 && offset < capability + 16 && offset + size > capability;
    }

    /** Re-reads the capability through the device model (ioreq thread, after a config write or at attach). */
    void refresh(DeviceModel device) {
        if (capability < 0) {
            return;
        }
        int control = (int) device.read(DeviceLayout.CONFIG, capability + 2, 2);
        boolean is64 = (control & 0x80) != 0;
        long address = device.read(DeviceLayout.CONFIG, capability + 4, 4) & 0xFFFF_FFFFL;
        if (is64) {
            address |= (device.read(DeviceLayout.CONFIG, capability + 8, 4) & 0xFFFF_FFFFL) << 32;
        }
        int data = (int) device.read(DeviceLayout.CONFIG, capability + (is64 ? 12 : 8), 2) & 0xFFFF;
        msi = new Msi((control & 1) != 0, address, data);
    }

    Msi current() {
        return msi;
    }

    @Override
    public void signalMsi() {
        if (closed) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "interrupts of dom" + domid + " are detached");
        }
        Msi snapshot = msi;
        if (!snapshot.enabled()) {
            dropped.incrementAndGet();
            return;
        }
        try {
            deviceModel.injectMsi(domid, snapshot.address(), snapshot.data());
            injected.incrementAndGet();
        } catch (RuntimeException e) {
            dropped.incrementAndGet();
            log.debug("dom{}: inject_msi(0x{}, 0x{}) failed: {}", domid, Long.toHexString(snapshot.address()),
                    Integer.toHexString(snapshot.data()), e.getMessage());
        }
    }

    @Override
    public long droppedSignals() {
        return dropped.get();
    }

    long injected() {
        return injected.get();
    }

    void close() {
        closed = true;
    }
}
