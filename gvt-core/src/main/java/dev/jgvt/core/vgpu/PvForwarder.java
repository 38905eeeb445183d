package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.mmio.PvNotificationListener;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** PVINFO notifications go to the vGPU's current attachment; a guest that could not balloon fails the vGPU first. */
final class PvForwarder implements PvNotificationListener {
    private final Supplier<VgpuAttachment> attachment;
    private final Consumer<String> failsafe;

    PvForwarder(Supplier<VgpuAttachment> attachment, Consumer<String> failsafe) {
        this.attachment = requireNonNull(attachment, "attachment is null");
        this.failsafe = requireNonNull(failsafe, "failsafe is null");
    }

    @Override
    public void ppgtt(boolean created, int levels, long[] pdps) {
        attachment.get().ppgtt(created, levels, pdps);
    }

    @Override
    public void execlistContext(boolean created, long descriptor) {
        attachment.get().execlistContext(created, descriptor);
    }

    @Override
    public void displayReady(int value) {
        attachment.get().displayReady(value);
    }

    @Override
    public void ballooningFailed(int value) {
        failsafe.accept("the guest could not balloon (PVINFO rsv5 = " + value + ")");
        attachment.get().ballooningFailed(value);
    }

    @Override
    public void unknownNotification(int code) {
        attachment.get().unknownNotification(code);
    }
}
