package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.gtt.GgttWindow;
import java.util.function.Supplier;

/** BAR0's GGTT window as the register file sees it: whatever the vGPU's current attachment's window is. */
final class AttachedGgtt implements GgttWindow {
    private final Supplier<VgpuAttachment> attachment;

    AttachedGgtt(Supplier<VgpuAttachment> attachment) {
        this.attachment = requireNonNull(attachment, "attachment is null");
    }

    @Override
    public long read(long offset, int size) {
        return attachment.get().ggtt().read(offset, size);
    }

    @Override
    public void write(long offset, int size, long value) {
        attachment.get().ggtt().write(offset, size, value);
    }

    @Override
    public long gmaToGpa(long gma) {
        return attachment.get().ggtt().gmaToGpa(gma);
    }
}
