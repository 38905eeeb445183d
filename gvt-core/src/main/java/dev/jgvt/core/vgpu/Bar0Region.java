package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.mmio.MmioSpace;
import java.util.function.BooleanSupplier;

/**
 * BAR0: the register file and PVINFO, and the GGTT window ({@link MmioSpace} routes the window first, as GVT-g's
 * MMIO dispatch does). A vGPU in failsafe reads 0 from its register file and drops every BAR0 write.
 */
final class Bar0Region implements DeviceRegion {
    private final MmioSpace mmio;
    private final BooleanSupplier failsafe;

    Bar0Region(MmioSpace mmio, BooleanSupplier failsafe) {
        this.mmio = requireNonNull(mmio, "mmio is null");
        this.failsafe = requireNonNull(failsafe, "failsafe is null");
    }

    @Override
    public long read(long offset, int size) {
        return failsafe.getAsBoolean() && offset < MmioSpace.REGISTER_FILE_SIZE ? 0 : mmio.read(offset, size);
    }

    @Override
    public void write(long offset, int size, long value) {
        if (!failsafe.getAsBoolean()) {
            mmio.write(offset, size, value);
        }
    }
}
