package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;

/**
 * The vGPU's fence registers as the aperture applies them: the CPU sees a valid fence's graphics-memory range
 * as a linear surface of the fence's pitch, while the bytes are stored X- or Y-tiled, so a CPU access at a
 * graphics address inside the range is redirected to where the tiling keeps that byte. Outside every valid
 * fence the aperture is linear.
 *
 * <p>Gen6+ fence register {@code FENCE_REG_GEN6(i)} at {@code 0x100000 + 8 i}, as i915 programs it: low dword
 * bits 31:12 the first page, bit 1 Y-tiled (else X), bit 0 valid; high dword bits 31:12 the last page (the end
 * is inclusive of that page), bits 11:0 the pitch in 128-byte units minus one. X tiles are 512 bytes x 8 rows,
 * legacy Y tiles 128 bytes x 32 rows in 16-byte columns; both 4 KiB. No bit-6 swizzling: Gen9 has none (i915
 * reports {@code I915_BIT_6_SWIZZLE_NONE} on every Gen8+ part and leaves the swizzle controls alone).
 *
 * <p>Only the vGPU's own fences count (guest indices {@code [0, count)}, the rest of the file is never stored:
 * {@code StandardHandlers.Fences}). The registers are decoded on each access straight from the register
 * file — a few array reads per fence, nothing allocated, and always in step with writes, resets and restores.
 * A fence whose pitch is not a multiple of its tile width (i915 never programs one) is applied as written;
 * where that puts a byte outside the fence, {@link #locate} reports -1 and the access is dropped.
 */
final class ApertureFences {
    private static final long PAGE_MASK = 0xFFFF_F000L;

    private final MmioSpace mmio;
    private final int count;

    ApertureFences(MmioSpace mmio, int count) {
        this.mmio = requireNonNull(mmio, "mmio is null");
        if (count < 0) {
            throw new IllegalArgumentException("fence count must not be negative: " + count);
        }
        this.count = count;
    }

    /**
     * Where graphics memory stores the byte the CPU addresses at {@code gma} through the aperture: {@code gma}
     * itself outside every valid fence, the tiled position inside one, -1 when a malformed fence puts it outside
     * the fence's range. The first valid fence containing {@code gma} wins.
     */
    long locate(long gma) {
        for (int i = 0; i < count; i++) {
            int at = Gen9Registers.FENCE_BASE + 8 * i;
            int lo = mmio.get(at);
            if ((lo & 1) == 0) {
                continue;
            }
            long start = lo & PAGE_MASK;
            long end = (mmio.get(at + 4) & PAGE_MASK) + 4096;
            if (gma < start || gma >= end) {
                continue;
            }
            long pitch = ((mmio.get(at + 4) & 0xFFF) + 1L) * 128;
            long offset = gma - start;
            long y = offset / pitch;
            long x = offset - y * pitch;
            long tiled = (lo & 2) != 0
                    ? (y >>> 5) * pitch * 32 + ((x >>> 7) << 12) + (((x & 127) >>> 4) << 9) + ((y & 31) << 4) + (x & 15)
                    : (y >>> 3) * pitch * 8 + ((x >>> 9) << 12) + ((y & 7) << 9) + (x & 511);
            return start + tiled < end ? start + tiled : -1;
        }
        return gma;
    }
}
