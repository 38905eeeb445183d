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
 * aperture maps graphics memory from 0, so a BAR2 offset is a graphics address. Inside a valid fence of the
 * vGPU the address is first moved to where the fence's tiling stores the byte ({@link ApertureFences}), so the
 * CPU's linear view through a fenced GTT mapping lands in the object's pages tiled — the same bytes the GPU,
 * a blit, the display and an unfenced mapping read. An access whose bytes the tiling scatters (one crossing a
 * 16-byte Y column or a 512-byte X tile row) is done byte by byte. Nothing is allocated per access. Called
 * under the vGPU's lock.
 */
final class ApertureWindow implements DeviceRegion {
    private static final Logger log = LoggerFactory.getLogger(ApertureWindow.class);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int vgpuId;
    private final GmRange slice;
    private final MmioSpace mmio;
    private final Supplier<VgpuAttachment> attachment;
    private final ApertureFences fences;
    /** Views of one 8-byte scratch buffer, indexed by access size (1, 2, 4, 8). */
    private final MemorySegment[] scratch = new MemorySegment[9];

    ApertureWindow(int vgpuId, GmRange slice, int fenceCount, MmioSpace mmio, Supplier<VgpuAttachment> attachment) {
        this.vgpuId = vgpuId;
        this.slice = requireNonNull(slice, "slice is null");
        this.mmio = requireNonNull(mmio, "mmio is null");
        this.attachment = requireNonNull(attachment, "attachment is null");
        this.fences = new ApertureFences(mmio, fenceCount);
        MemorySegment buffer = Arena.ofAuto().allocate(8, 8);
        for (int size = 1; size <= 8; size <<= 1) {
            scratch[size] = buffer.asSlice(0, size);
        }
    }

    /**
     * The graphics address the {@code size} bytes the CPU addresses at {@code offset} start at after the fences,
     * or -1 when the fences scatter them (or a malformed fence drops them).
     */
    private long located(long offset, int size) {
        if (!slice.contains(offset, size)) {
            return offset; // dropped by gpa(): the CPU's own address must lie in the slice, fenced or not
        }
        long first = fences.locate(offset);
        if (first < 0 || size == 1) {
            return first;
        }
        return fences.locate(offset + size - 1) == first + size - 1 ? first : -1;
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
        long gma = located(offset, size);
        if (gma >= 0) {
            return readAt(offset, gma, size);
        }
        long value = 0;
        for (int i = 0; i < size; i++) {
            long b = fences.locate(offset + i);
            value |= (b < 0 ? 0 : readAt(offset + i, b, 1)) << (8 * i);
        }
        return value;
    }

    private long readAt(long offset, long gma, int size) {
        VgpuAttachment a = attachment.get();
        GuestBinding binding = a.binding();
        long gpa = gpa(a, gma, size);
        if (gpa < 0 || binding == null) {
            mmio.logDropped(MmioSpace.BAR0_SIZE + offset, "aperture read outside the vGPU's mapped slice");
            return 0;
        }
        try {
            MemorySegment buf = scratch[size];
            binding.memory().read(gpa, buf);
            return switch (size) {
                case 1 -> buf.get(ValueLayout.JAVA_BYTE, 0) & 0xFFL;
                case 2 -> buf.get(LE_SHORT, 0) & 0xFFFFL;
                case 4 -> buf.get(LE_INT, 0) & 0xFFFFFFFFL;
                default -> buf.get(LE_LONG, 0);
            };
        } catch (GvtException e) {
            log.debug("vGPU {}: aperture read at 0x{} failed: {}", vgpuId, Long.toHexString(offset), e.getMessage());
            return 0;
        }
    }

    @Override
    public void write(long offset, int size, long value) {
        long gma = located(offset, size);
        if (gma >= 0) {
            writeAt(offset, gma, size, value);
            return;
        }
        for (int i = 0; i < size; i++) {
            long b = fences.locate(offset + i);
            if (b >= 0) {
                writeAt(offset + i, b, 1, value >>> (8 * i));
            }
        }
    }

    private void writeAt(long offset, long gma, int size, long value) {
        VgpuAttachment a = attachment.get();
        GuestBinding binding = a.binding();
        long gpa = gpa(a, gma, size);
        if (gpa < 0 || binding == null) {
            mmio.logDropped(MmioSpace.BAR0_SIZE + offset, "aperture write outside the vGPU's mapped slice");
            return;
        }
        try {
            MemorySegment buf = scratch[size];
            for (int i = 0; i < size; i++) {
                buf.set(ValueLayout.JAVA_BYTE, i, (byte) (value >>> (8 * i)));
            }
            binding.memory().write(gpa, buf);
        } catch (GvtException e) {
            log.debug("vGPU {}: aperture write at 0x{} failed: {}", vgpuId, Long.toHexString(offset), e.getMessage());
        }
    }
}
