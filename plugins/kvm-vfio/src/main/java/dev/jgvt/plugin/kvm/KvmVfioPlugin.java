package dev.jgvt.plugin.kvm;

import dev.jgvt.spi.Capability;
import dev.jgvt.plugin.kvm.server.KvmVfioHypervisor;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import java.util.Set;
import org.pf4j.Extension;

/**
 * The kvm-vfio plugin: attaching a vGPU serves it over vfio-user on the socket path of the request's
 * {@link dev.jgvt.spi.AttachRequest.UnixSocket} target, for an external VMM (the reference VMM of
 * {@code gvt vmm}, or any vfio-user client). Guest RAM comes from the client's DMA_MAP (fd-backed regions
 * through the type1 software IOMMU, fd-less ones by DMA_READ/WRITE messages), interrupts through the
 * eventfds it binds, page tracking through the {@code x-jgvt-page-tracking} extension when it offers it.
 * Not built: driving KVM itself (memslots, vCPUs), so the VMM side is always a vfio-user client.
 */
@Extension
public final class KvmVfioPlugin implements HypervisorPlugin {

    @Override
    public String id() {
        return "kvm-vfio";
    }

    @Override
    public Set<Capability> capabilities() {
        return Set.of(Capability.PAGE_TRACKING, Capability.GUEST_PAGE_DMA, Capability.INTX);
    }

    @Override
    public Availability availability() {
        return new Availability(true, "vfio-user server over AF_UNIX (page tracking when the VMM offers x-jgvt-page-tracking)");
    }

    @Override
    public Hypervisor open(HostContext context) {
        java.util.Objects.requireNonNull(context, "context is null");
        return new KvmVfioHypervisor();
    }
}
