package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.gtt.GgttShadow;
import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.spi.GuestMemory;

/**
 * Graphics memory through a vGPU's GGTT, as the scanner reads rings and privileged batches: each page is
 * resolved through the guest's GGTT entry (only entries inside the vGPU's partition resolve).
 */
final class GgttMemory extends PagedGraphicsMemory {
    private final GgttShadow ggtt;

    GgttMemory(GgttShadow ggtt, PinCache pins, GuestMemory memory) {
        super(pins, memory);
        this.ggtt = requireNonNull(ggtt, "ggtt is null");
    }

    @Override
    long gmaToGpa(long gma) {
        return ggtt.gmaToGpa(gma);
    }
}
