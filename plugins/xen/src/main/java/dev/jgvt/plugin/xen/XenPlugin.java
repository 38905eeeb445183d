package dev.jgvt.plugin.xen;

import dev.jgvt.plugin.xen.emu.EmulatedXen;
import dev.jgvt.plugin.xen.ffm.NativeXenBackend;
import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pf4j.Extension;

/**
 * The Xen plugin: an ioreq-server device model. On a Xen dom0 it drives the real hypervisor through
 * libxendevicemodel, libxenforeignmemory and libxenevtchn (FFM); elsewhere, when configured with
 * {@code plugin.xen.backend=emulated} (or {@code auto}), it runs the same code against an in-process Xen
 * that reproduces the hypervisor's structures and rules.
 *
 * <p>Capabilities: {@link Capability#PAGE_TRACKING} only. There is no {@link Capability#GUEST_PAGE_DMA}:
 * Xen user space has no {@code dma_map_guest_page} (no gfn-to-machine-frame query), so pins are foreign
 * mappings usable for CPU copies, not bus addresses.
 */
@Extension
public final class XenPlugin implements HypervisorPlugin {
    private final Map<String, String> configuration;

    public XenPlugin() {
        this(Map.of());
    }

    @Inject
    public XenPlugin(HostContext context) {
        this(context.configuration());
    }

    XenPlugin(Map<String, String> configuration) {
        this.configuration = Map.copyOf(configuration);
    }

    @Override
    public String id() {
        return "xen";
    }

    @Override
    public Set<Capability> capabilities() {
        return Set.of(Capability.PAGE_TRACKING);
    }

    @Override
    public Availability availability() {
        XenSettings settings;
        try {
            settings = XenSettings.from(configuration);
        } catch (GvtException e) {
            return Availability.unavailable(e.getMessage());
        }
        String nativeReason = NativeXenBackend.probe();
        return switch (settings.backend()) {
            case NATIVE -> nativeReason == null ? Availability.AVAILABLE : Availability.unavailable(nativeReason);
            case EMULATED -> new Availability(true, "emulated in-process Xen (real Xen: "
                    + (nativeReason == null ? "available" : nativeReason) + ")");
            case AUTO -> nativeReason == null
                    ? Availability.AVAILABLE
                    : new Availability(true, "emulated in-process Xen, because " + nativeReason);
        };
    }

    @Override
    public Hypervisor open(HostContext context) {
        Map<String, String> merged = new java.util.HashMap<>(configuration);
        merged.putAll(context.configuration());
        XenSettings settings = XenSettings.from(merged);
        if (settings.backend() == XenSettings.Backend.EMULATED) {
            return emulated(settings);
        }
        try {
            return new XenHypervisor(NativeXenBackend.open(), Optional.empty(), settings);
        } catch (NativeXenBackend.Unavailable e) {
            if (settings.backend() == XenSettings.Backend.AUTO) {
                return emulated(settings);
            }
            throw new GvtException(ErrorCode.UNSUPPORTED, e.getMessage());
        }
    }

    private static Hypervisor emulated(XenSettings settings) {
        EmulatedXen xen = new EmulatedXen();
        return new XenHypervisor(xen.backend(0), Optional.of(xen), settings);
    }
}
