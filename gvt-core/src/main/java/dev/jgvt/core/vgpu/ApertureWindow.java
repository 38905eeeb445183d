package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * BAR2, the aperture: a trapped access inside the vGPU's aperture slice goes to the guest page the vGPU's GGTT
 * entry names (the GGTT window's own translation, {@code gmaToGpa}); anything else is dropped and counted. The
 * aperture maps graphics memory from 0, so a BAR2 offset is a graphics address. Called under the vGPU's lock.
 */
final class ApertureWindow implements DeviceRegion {
    private static final Logger log = LoggerFactory.getLogger(ApertureWindow.class);

    private final int vgpuId;
    private final GmRange slice;
    private final MmioSpace mmio;
    private final Supplier<VgpuAttachment> attachment;
    private final MemorySegment scratch = Arena.ofAuto().allocate(8, 8);

    ApertureWindow(int vgpuId, GmRange slice, MmioSpace mmio, Supplier<VgpuAttachment> attachment) {
        this.vgpuId = vgpuId;
        this.slice = requireNonNull(slice, "slice is null");
        this.mmio = requireNonNull(mmio, "mmio is null");
        this.attachment = requireNonNull(attachment, "attachment is null");
    }

    /**
     * The guest physical address behind aperture offset {@code offset} through the vGPU's GGTT, or -1 outside the
     * vGPU's slice, across a page or through a not-present entry.
     */
    private long gpa(VgpuAttachment a, long offset, int size) {
        if (!slice.contains(offset, size) || ((offset ^ (offset + size - 1)) & ~0xFFFL) != 0) {
            return -1;
        }
        return a.ggtt().gmaToGpa(offset);
    }

    @Override
    public long read(long offset, int size) {
        VgpuAttachment a = attachment.get();
        GuestBinding binding = a.binding();
        long gpa = gpa(a, offset, size);
        if (gpa < 0 || binding == null) {
            mmio.logDropped(MmioSpace.BAR0_SIZE + offset, "aperture read outside the vGPU's mapped slice");
            return 0;
        }
        try {
            MemorySegment buf = scratch.asSlice(0, size);
            binding.memory().read(gpa, buf);
            return switch (size) {
                case 1 -> buf.get(ValueLayout.JAVA_BYTE, 0) & 0xFFL;
                case 2 -> buf.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0) & 0xFFFFL;
                case 4 -> buf.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0) & 0xFFFFFFFFL;
                default -> buf.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            };
        } catch (GvtException e) {
            log.debug("vGPU {}: aperture read at 0x{} failed: {}", vgpuId, Long.toHexString(offset), e.getMessage());
            return 0;
        }
    }

    @Override
    public void write(long offset, int size, long value) {
        VgpuAttachment a = attachment.get();
        GuestBinding binding = a.binding();
        long gpa = gpa(a, offset, size);
        if (gpa < 0 || binding == null) {
            mmio.logDropped(MmioSpace.BAR0_SIZE + offset, "aperture write outside the vGPU's mapped slice");
            return;
        }
        try {
            MemorySegment buf = scratch.asSlice(0, size);
            for (int i = 0; i < size; i++) {
                buf.set(ValueLayout.JAVA_BYTE, i, (byte) (value >>> (8 * i)));
            }
            binding.memory().write(gpa, buf);
        } catch (GvtException e) {
            log.debug("vGPU {}: aperture write at 0x{} failed: {}", vgpuId, Long.toHexString(offset), e.getMessage());
        }
    }
}
