package dev.jgvt.plugin.fake;

import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import java.util.Set;
import org.pf4j.Extension;

/** The in-process hypervisor. Placeholder until the fake plugin is built: opening it fails. */
@Extension
public final class FakeHypervisorPlugin implements HypervisorPlugin {
    @Override
    public String id() {
        return "fake";
    }

    @Override
    public Set<Capability> capabilities() {
        return Set.of();
    }

    @Override
    public Hypervisor open(HostContext context) {
        throw new GvtException(ErrorCode.UNSUPPORTED, "the fake hypervisor is not built yet");
    }
}
