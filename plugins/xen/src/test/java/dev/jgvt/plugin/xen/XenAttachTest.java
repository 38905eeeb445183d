package dev.jgvt.plugin.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.xen.abi.BufferedIoreq;
import dev.jgvt.plugin.xen.abi.XenConst;
import dev.jgvt.plugin.xen.emu.EmulatedDomain;
import dev.jgvt.plugin.xen.emu.EmulatedXen;
import dev.jgvt.plugin.xen.lib.XenDeviceModelOps;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Attach paths beyond the happy one: the legacy ioreq-page fallback and failures that must leave nothing behind. */
final class XenAttachTest {
    private final EmulatedXen xen = new EmulatedXen();
    private final EmulatedDomain domain = xen.createDomain(5, 4L << 20, 1);
    private final XenHypervisor hypervisor = new XenHypervisor(xen.backend(0), Optional.of(xen),
            XenSettings.from(Map.of("backend", "emulated")));

    @AfterEach
    void close() {
        hypervisor.close();
    }

    private XenGuestBinding attach() {
        TestVgpu vgpu = new TestVgpu();
        XenGuestBinding binding = (XenGuestBinding) hypervisor.attach(new AttachRequest("v", new AttachRequest.XenDomain(5)), vgpu);
        vgpu.memory = binding.memory();
        return binding;
    }

    @Test
    void withoutAcquireResourceTheIoreqPageComesFromTheGfnPool() {
        xen.acquireResource(false);
        XenGuestBinding binding = attach();
        assertThat(binding.inProcessGuest().orElseThrow().configRead(0, 4)).isEqualTo(0x1912_8086L);
        binding.close();
        assertThat(domain.serverIds()).isEmpty();
    }

    @Test
    void aFullDomainFailsWithNoSpaceAndLeavesNothingBehind() {
        XenDeviceModelOps other = xen.backend(0).deviceModel();
        for (int i = 0; i < XenConst.MAX_NR_IOREQ_SERVERS; i++) {
            other.createIoreqServer(5, BufferedIoreq.BUFIOREQ_OFF);
        }
        assertThatThrownBy(this::attach).isInstanceOf(GvtException.class)
                .hasMessageContaining("ENOSPC")
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.NO_SPACE);
        assertThat(domain.serverIds()).hasSize(XenConst.MAX_NR_IOREQ_SERVERS);
    }

    @Test
    void anotherServerHoldingTheMemoryTypeFailsWithBusyAndTheHalfBuiltServerIsDestroyed() {
        XenDeviceModelOps other = xen.backend(0).deviceModel();
        int holder = other.createIoreqServer(5, BufferedIoreq.BUFIOREQ_OFF);
        other.mapMemTypeToIoreqServer(5, holder, XenConst.HVMMEM_IOREQ_SERVER, XenConst.IOREQ_MEM_ACCESS_WRITE);
        assertThatThrownBy(this::attach).isInstanceOf(GvtException.class)
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.BUSY);
        assertThat(domain.serverIds()).containsExactly(holder);
        assertThat(domain.memTypeClaimOwner()).isEqualTo(holder);
        // and the name and domain are free again
        other.destroyIoreqServer(5, holder);
        assertThat(attach().server()).isZero();
    }

    @Test
    void aMissingDomainIsNotFoundOnTheNativeShapedPath() {
        XenHypervisor strict = new XenHypervisor(xen.backend(0), Optional.empty(), XenSettings.from(Map.of()));
        assertThatThrownBy(() -> strict.attach(new AttachRequest("w", new AttachRequest.XenDomain(77)), new TestVgpu()))
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThatThrownBy(() -> strict.attach(new AttachRequest("w", new AttachRequest.InProcess("g", 4096)), new TestVgpu()))
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }
}
