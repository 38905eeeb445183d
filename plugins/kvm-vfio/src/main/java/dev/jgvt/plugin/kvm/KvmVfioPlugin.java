package dev.jgvt.plugin.kvm;

import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import java.util.Set;
import org.pf4j.Extension;

/**
 * The kvm-vfio plugin. Built so far (internal, tested): kernel facilities through FFM
 * ({@code dev.jgvt.plugin.kvm.os}: eventfd, memfd + mmap, AF_UNIX with SCM_RIGHTS, KVM VM-level irqfd/ioeventfd), the software IOMMU with
 * VFIO type1 v2 semantics ({@code dev.jgvt.plugin.kvm.iommu}, including the SPI's GuestMemory/GuestPages
 * over it) and the vfio-user wire codec and channel ({@code dev.jgvt.plugin.kvm.vfiouser}). Not built: the
 * vfio-user server that would expose a DeviceModel, so {@link #open} still fails and the plugin reports
 * itself unavailable.
 */
@Extension
public final class KvmVfioPlugin implements HypervisorPlugin {
    static final String NOT_BUILT = "the vfio-user server, `gvt serve` and the KVM memslot/vCPU wiring are not built yet"
            + " (built: FFM eventfd/memfd/SCM_RIGHTS and KVM irqfd, the type1 software IOMMU, the vfio-user codec); issue: kvm-vfio plugin";

    @Override
    public String id() {
        return "kvm-vfio";
    }

    @Override
    public Set<Capability> capabilities() {
        return Set.of();
    }

    @Override
    public Availability availability() {
        return Availability.unavailable(NOT_BUILT);
    }

    @Override
    public Hypervisor open(HostContext context) {
        throw new GvtException(ErrorCode.UNSUPPORTED, NOT_BUILT);
    }
}
