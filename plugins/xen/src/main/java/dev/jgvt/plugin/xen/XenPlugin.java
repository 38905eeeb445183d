package dev.jgvt.plugin.xen;

import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import java.util.Set;
import org.pf4j.Extension;

/** Honest skeleton: the plugin loads and reports itself, but cannot attach guests yet. */
@Extension
public final class XenPlugin implements HypervisorPlugin {
    static final String NOT_BUILT = "the ioreq-server device model is not built yet (issue: xen plugin)";

    @Override
    public String id() {
        return "xen";
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
