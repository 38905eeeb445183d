package dev.jgvt.core.vgpu;

import dev.jgvt.core.pci.PciListener;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the guest's config-space writes decided, recorded for the plugin wiring and for diagnostics: whether and
 * where BAR0 is decoded, where the aperture is mapped, the OpRegion address (ASLS); SWSCI requests go to
 * {@code swsci}, which answers whether the request is complete. Called under the vGPU's lock.
 */
final class PciState implements PciListener {
    private static final Logger log = LoggerFactory.getLogger(PciState.class);

    private final int vgpuId;
    private final IntPredicate swsci;
    private final Runnable swsciComplete;
    boolean trapped;
    long trapBase;
    boolean mapped;
    long mapGpa;
    long asls;

    PciState(int vgpuId, IntPredicate swsci, Runnable swsciComplete) {
        this.vgpuId = vgpuId;
        this.swsci = swsci;
        this.swsciComplete = swsciComplete;
    }

    void clear() {
        trapped = false;
        mapped = false;
        trapBase = 0;
        mapGpa = 0;
        asls = 0;
    }

    @Override
    public void bar0Trap(long base, long size, boolean on) {
        trapped = on;
        trapBase = base;
        log.debug("vGPU {}: BAR0 {} at 0x{}", vgpuId, on ? "trapped" : "untrapped", Long.toHexString(base));
    }

    @Override
    public void apertureMap(long gpa, long size, boolean on) {
        mapped = on;
        mapGpa = gpa;
    }

    @Override
    public void opRegionAddress(long gpa) {
        asls = gpa;
    }

    @Override
    public void swsci(int value) {
        if (swsci.test(value)) {
            swsciComplete.run();
        }
    }
}
