package dev.jgvt.core.vgpu;

import dev.jgvt.core.display.OpRegion;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GvtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpRegion: the read-only region the VMM copies into guest RAM (Intel vendor region, subtype 1), and the
 * SWSCI requests the guest then makes against its copy at the address it gave in ASLS. Called under the vGPU's
 * lock.
 */
final class OpRegionWindow implements DeviceRegion {
    private static final Logger log = LoggerFactory.getLogger(OpRegionWindow.class);

    private final int vgpuId;
    private byte[] opRegion = OpRegion.create();

    OpRegionWindow(int vgpuId) {
        this.vgpuId = vgpuId;
    }

    @Override
    public long read(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (opRegion[(int) offset + i] & 0xFFL) << (8 * i);
        }
        return value;
    }

    @Override
    public void write(long offset, int size, long value) {
        throw new IllegalStateException("the OpRegion is read-only; the region table refuses writes");
    }

    void reset() {
        opRegion = OpRegion.create();
    }

    /**
     * A SWSCI request (config-space SWSCI written with {@code value}): answered in the guest's OpRegion copy at
     * {@code asls}. Returns whether the request reached the guest's copy (the caller completes the SWSCI either way
     * unless it was refused).
     */
    boolean swsci(int value, long asls, GuestBinding binding) {
        if ((value & (1 << 15)) == 0) {
            log.debug("vGPU {}: SWSCI SMI request 0x{} refused", vgpuId, Integer.toHexString(value));
            return false;
        }
        if (binding == null || asls == 0) {
            log.debug("vGPU {}: SWSCI without an OpRegion address or a guest", vgpuId);
            return false;
        }
        try {
            long scic = asls + OpRegion.SCIC;
            long words = binding.memory().readLong(scic);
            int[] answer = OpRegion.answerSwsci((int) words, (int) (words >>> 32));
            binding.memory().writeLong(scic, (answer[0] & 0xFFFFFFFFL) | ((long) answer[1] << 32));
        } catch (GvtException e) {
            log.debug("vGPU {}: SWSCI could not reach the guest OpRegion: {}", vgpuId, e.getMessage());
        }
        return true;
    }
}
