package dev.jgvt.plugin.fake;

import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.HypervisorPlugin;
import java.util.EnumSet;
import java.util.Set;
import org.pf4j.Extension;

/**
 * The in-process hypervisor: guests live in the engine's process, their RAM is a {@code MemorySegment},
 * and tests script faults through {@link FakeGuest}. Deterministic: no thread of its own except an MSI
 * delivery thread per guest when a delay or listener is configured.
 *
 * <p>Configuration ({@code plugin.fake.*}): {@code max-ram-bytes} (default 16G), {@code msi-delay-micros}
 * (default 0).
 */
@Extension
public final class FakeHypervisorPlugin implements HypervisorPlugin {
    private static final Set<Capability> CAPABILITIES =
            Set.copyOf(EnumSet.of(Capability.PAGE_TRACKING, Capability.GUEST_PAGE_DMA, Capability.HUGE_PAGE_PIN_2M));

    @Override
    public String id() {
        return "fake";
    }

    @Override
    public Set<Capability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public FakeHypervisor open(HostContext context) {
        if (context == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "context is null");
        }
        return new FakeHypervisor(FakeConfig.from(context.configuration()));
    }
}
