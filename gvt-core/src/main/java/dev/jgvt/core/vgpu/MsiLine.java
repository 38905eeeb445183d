package dev.jgvt.core.vgpu;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.pci.ConfigSpace;
import dev.jgvt.spi.GuestBinding;
import java.util.function.Supplier;

/**
 * The vGPU's MSI: a pending, enabled interrupt is signalled through the attachment's binding when the guest enabled
 * MSI in config space, and counted as suppressed otherwise (MSI off, or no guest). Called under the vGPU's lock.
 */
final class MsiLine implements Runnable {
    private final ConfigSpace config;
    private final Supplier<VgpuAttachment> attachment;
    private volatile long signals;
    private volatile long suppressed;

    MsiLine(ConfigSpace config, Supplier<VgpuAttachment> attachment) {
        this.config = requireNonNull(config, "config is null");
        this.attachment = requireNonNull(attachment, "attachment is null");
    }

    @Override
    public void run() {
        GuestBinding b = attachment.get().binding();
        if (b != null && config.msiEnabled()) {
            signals++;
            b.interrupts().signalMsi();
        } else {
            suppressed++;
        }
    }

    long signals() {
        return signals;
    }

    long suppressed() {
        return suppressed;
    }
}
