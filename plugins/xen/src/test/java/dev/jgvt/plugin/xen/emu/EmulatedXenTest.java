package dev.jgvt.plugin.xen.emu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.xen.abi.BufferedIoreq;
import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.abi.Ioreq;
import dev.jgvt.plugin.xen.abi.XenConst;
import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenDeviceModelOps;
import dev.jgvt.plugin.xen.lib.XenEventChannels;
import dev.jgvt.plugin.xen.lib.XenForeignMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The emulated hypervisor's rules: limits, error numbers, event-channel semantics and the handshake checks. */
final class EmulatedXenTest {
    private static final int DOM = 3;
    private final EmulatedXen xen = new EmulatedXen();
    private final EmulatedDomain domain = xen.createDomain(DOM, 8L << 20, 2);
    private final EmulatedBackend dom0 = xen.backend(0);
    private final XenDeviceModelOps dm = dom0.deviceModel();

    @AfterEach
    void close() {
        xen.close();
    }

    private static void assertErrno(int errno, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(XenCallException.class)
                .extracting(e -> ((XenCallException) e).errno()).isEqualTo(errno);
    }

    @Test
    void atMostEightServersPerDomainAndIdsStartAtZero() {
        for (int i = 0; i < XenConst.MAX_NR_IOREQ_SERVERS; i++) {
            assertThat(dm.createIoreqServer(DOM, BufferedIoreq.BUFIOREQ_OFF)).isEqualTo(i);
        }
        assertErrno(Errno.ENOSPC, () -> dm.createIoreqServer(DOM, BufferedIoreq.BUFIOREQ_OFF));
        dm.destroyIoreqServer(DOM, 3);
        assertThat(dm.createIoreqServer(DOM, BufferedIoreq.BUFIOREQ_OFF)).isEqualTo(3);
        assertErrno(Errno.ESRCH, () -> dm.createIoreqServer(99, 0));
    }

    @Test
    void createRejectsAnUnknownBufioreqMode() {
        assertErrno(Errno.EINVAL, () -> dm.createIoreqServer(DOM, 3));
    }

    @Test
    void rangeRulesFollowXen() {
        int id = dm.createIoreqServer(DOM, 0);
        assertErrno(Errno.EINVAL, () -> dm.mapIoRangeToIoreqServer(DOM, id, true, 0x2000, 0x1000));
        assertErrno(Errno.ENOENT, () -> dm.mapIoRangeToIoreqServer(DOM, 5, true, 0x1000, 0x1FFF));
        assertErrno(Errno.EPERM, () -> xen.backend(9).deviceModel().mapIoRangeToIoreqServer(DOM, id, true, 0x1000, 0x1FFF));
        dm.mapIoRangeToIoreqServer(DOM, id, true, 0x1000, 0x1FFF);
        assertErrno(Errno.EEXIST, () -> dm.mapIoRangeToIoreqServer(DOM, id, true, 0x1800, 0x2800));
        dm.mapIoRangeToIoreqServer(DOM, id, false, 0x1000, 0x1FFF); // another type: no overlap
        for (int i = 1; i < XenConst.MAX_NR_IO_RANGES; i++) {
            long start = 0x10_0000L * (i + 1);
            dm.mapIoRangeToIoreqServer(DOM, id, true, start, start + 0xFFF);
        }
        assertErrno(Errno.ENOMEM, () -> dm.mapIoRangeToIoreqServer(DOM, id, true, 0x7000_0000L, 0x7000_0FFFL));
        assertErrno(Errno.ENOENT, () -> dm.unmapIoRangeFromIoreqServer(DOM, id, true, 0x1800, 0x2800));
        dm.unmapIoRangeFromIoreqServer(DOM, id, true, 0x1400, 0x17FF);
        assertThat(domain.ranges(id, XenConst.IO_RANGE_MEMORY).subList(0, 2))
                .extracting(r -> r[0] + "-" + r[1]).containsExactly(0x1000 + "-" + 0x13FF, 0x1800 + "-" + 0x1FFF);
    }

    @Test
    void pcidevArgumentsAreCheckedByTheLibrary() {
        int id = dm.createIoreqServer(DOM, 0);
        assertErrno(Errno.EINVAL, () -> dm.mapPcidevToIoreqServer(DOM, id, 0, 0, 0x20, 0));
        assertErrno(Errno.EINVAL, () -> dm.mapPcidevToIoreqServer(DOM, id, 0, 0, 2, 8));
        dm.mapPcidevToIoreqServer(DOM, id, 0, 0, 2, 0);
        assertThat(domain.ranges(id, XenConst.IO_RANGE_PCI)).singleElement().satisfies(r -> assertThat(r).containsExactly(0x10, 0x10));
        assertErrno(Errno.EEXIST, () -> dm.mapPcidevToIoreqServer(DOM, id, 0, 0, 2, 0));
    }

    @Test
    void oneServerPerDomainHoldsTheIoreqServerMemoryType() {
        int a = dm.createIoreqServer(DOM, 0);
        int b = dm.createIoreqServer(DOM, 0);
        assertErrno(Errno.EINVAL, () -> dm.setMemType(DOM, XenConst.HVMMEM_IOREQ_SERVER, 10, 1));
        assertErrno(Errno.EINVAL, () -> dm.mapMemTypeToIoreqServer(DOM, a, XenConst.HVMMEM_UNUSED, XenConst.IOREQ_MEM_ACCESS_WRITE));
        assertErrno(Errno.EINVAL, () -> dm.mapMemTypeToIoreqServer(DOM, a, XenConst.HVMMEM_IOREQ_SERVER, XenConst.IOREQ_MEM_ACCESS_READ));
        dm.mapMemTypeToIoreqServer(DOM, a, XenConst.HVMMEM_IOREQ_SERVER, XenConst.IOREQ_MEM_ACCESS_WRITE);
        assertErrno(Errno.EBUSY, () -> dm.mapMemTypeToIoreqServer(DOM, b, XenConst.HVMMEM_IOREQ_SERVER, XenConst.IOREQ_MEM_ACCESS_WRITE));
        assertErrno(Errno.EINVAL, () -> dm.mapMemTypeToIoreqServer(DOM, b, XenConst.HVMMEM_IOREQ_SERVER, 0));

        dm.setMemType(DOM, XenConst.HVMMEM_IOREQ_SERVER, 10, 3);
        assertThat(domain.memType(11)).isEqualTo(XenConst.HVMMEM_IOREQ_SERVER);
        assertErrno(Errno.EINVAL, () -> dm.setMemType(DOM, XenConst.HVMMEM_IOREQ_SERVER, (8L << 20 >>> 12) + 5, 1));
        assertErrno(Errno.EINVAL, () -> dm.setMemType(DOM, XenConst.HVMMEM_MMIO_DM, 10, 1));

        dm.mapMemTypeToIoreqServer(DOM, a, XenConst.HVMMEM_IOREQ_SERVER, 0);
        assertThat(domain.memType(11)).as("release turns entries back to ram_rw").isEqualTo(XenConst.HVMMEM_RAM_RW);
        dm.mapMemTypeToIoreqServer(DOM, b, XenConst.HVMMEM_IOREQ_SERVER, XenConst.IOREQ_MEM_ACCESS_WRITE);
        dm.destroyIoreqServer(DOM, b);
        assertThat(domain.memTypeClaimOwner()).as("destroy drops the claim").isEqualTo(-1);
    }

    @Test
    void withoutHapTheIoreqServerTypeIsUnsupported() {
        int a = dm.createIoreqServer(DOM, 0);
        dm.mapMemTypeToIoreqServer(DOM, a, XenConst.HVMMEM_IOREQ_SERVER, XenConst.IOREQ_MEM_ACCESS_WRITE);
        xen.hap(false);
        assertErrno(Errno.EOPNOTSUPP, () -> dm.setMemType(DOM, XenConst.HVMMEM_IOREQ_SERVER, 10, 1));
    }

    @Test
    void vpEportIsFilledOnEnableAndBindableOnlyByTheCreator() {
        int id = dm.createIoreqServer(DOM, 0);
        try (XenForeignMemory.ForeignMapping page = dom0.foreignMemory().mapResource(DOM, 0, id, 1, 1, true)) {
            assertThat(Ioreq.vpEport(page.segment(), 0)).isZero();
            dm.setIoreqServerState(DOM, id, true);
            int p0 = Ioreq.vpEport(page.segment(), 0);
            int p1 = Ioreq.vpEport(page.segment(), 1);
            assertThat(p0).isPositive();
            assertThat(p1).isPositive().isNotEqualTo(p0);
            try (XenEventChannels other = xen.backend(4).openEventChannels()) {
                assertErrno(Errno.EINVAL, () -> other.bindInterdomain(DOM, p0));
            }
            try (XenEventChannels mine = dom0.openEventChannels()) {
                assertThat(mine.bindInterdomain(DOM, p0)).isPositive();
                assertErrno(Errno.EINVAL, () -> mine.bindInterdomain(DOM, p0));
            }
        }
    }

    @Test
    void ioreqPagesComeAsAResourceOrFromTheGfnPoolButNotBoth() {
        int off = dm.createIoreqServer(DOM, BufferedIoreq.BUFIOREQ_OFF);
        assertErrno(Errno.ENOENT, () -> dom0.foreignMemory().mapResource(DOM, 0, off, 0, 1, true));
        dom0.foreignMemory().mapResource(DOM, 0, off, 1, 1, true).close();
        assertErrno(Errno.EPERM, () -> dm.getIoreqServerInfo(DOM, off, true));
        assertThat(dm.getIoreqServerInfo(DOM, off, false).ioreqGfn()).isEqualTo(-1);

        int legacy = dm.createIoreqServer(DOM, BufferedIoreq.BUFIOREQ_LEGACY);
        XenDeviceModelOps.IoreqServerInfo info = dm.getIoreqServerInfo(DOM, legacy, true);
        assertThat(info.ioreqGfn()).isEqualTo(EmulatedDomain.SPECIAL_PFN_BASE);
        assertThat(info.bufioreqGfn()).isEqualTo(EmulatedDomain.SPECIAL_PFN_BASE + 1);
        assertThat(info.bufioreqPort()).isPositive();
        assertErrno(Errno.EPERM, () -> dom0.foreignMemory().mapResource(DOM, 0, legacy, 1, 1, true));
        try (XenForeignMemory.ForeignMapping page = dom0.foreignMemory().map(DOM, true, new long[] {info.ioreqGfn()}, null)) {
            assertThat(page.segment().address()).isEqualTo(domain.ioreqPage(legacy).address());
        }
        // the pool holds 8 pages: three more legacy servers exhaust it
        for (int i = 0; i < 3; i++) {
            dm.getIoreqServerInfo(DOM, dm.createIoreqServer(DOM, BufferedIoreq.BUFIOREQ_LEGACY), true);
        }
        int last = dm.createIoreqServer(DOM, BufferedIoreq.BUFIOREQ_LEGACY);
        assertErrno(Errno.ENOMEM, () -> dm.getIoreqServerInfo(DOM, last, true));

        xen.acquireResource(false);
        assertErrno(Errno.EOPNOTSUPP, () -> dom0.foreignMemory().mapResource(DOM, 0, off, 1, 1, true));
    }

    @Test
    void foreignMapsReportHolesPerPage() {
        domain.unpopulate(5, 2);
        int[] err = new int[8];
        try (XenForeignMemory.ForeignMapping map = dom0.foreignMemory().map(DOM, true, new long[] {2, 3, 4, 5, 6, 7, 8, 9}, err)) {
            assertThat(err).containsExactly(0, 0, 0, -Errno.EINVAL, -Errno.EINVAL, 0, 0, 0);
            assertThat(map.segment().byteSize()).isEqualTo(8 * 4096);
        }
        assertErrno(Errno.EINVAL, () -> dom0.foreignMemory().map(DOM, true, new long[] {4, 5}, null));
    }

    @Test
    void eventChannelsKeepPendingWhileMaskedAndCoalesce() {
        int id = dm.createIoreqServer(DOM, 0);
        dm.setIoreqServerState(DOM, id, true);
        int remote = Ioreq.vpEport(domain.ioreqPage(id), 0);
        try (XenEventChannels channels = dom0.openEventChannels()) {
            int local = channels.bindInterdomain(DOM, remote);
            EventChannelHub.Endpoint xenSide = domain.servers[id].vcpuPorts[0];
            xen.hub.send(xenSide);
            xen.hub.send(xenSide); // delivered once: the port is masked after delivery, the second stays pending
            assertThat(channels.pending(1000)).isEqualTo(local);
            EventChannelHub.Endpoint mine = ((EmulatedEventChannels) channels).endpoint(local);
            assertThat(xen.hub.isMasked(mine)).isTrue();
            assertThat(xen.hub.isPending(mine)).isTrue();
            assertThat(channels.pending(0)).isEqualTo(-1);
            xen.hub.send(xenSide); // already pending: coalesced
            channels.unmask(local);
            assertThat(channels.pending(1000)).isEqualTo(local);
            channels.unmask(local);
            assertThat(channels.pending(0)).as("nothing left").isEqualTo(-1);
            assertThat(xen.hub.isPending(mine)).isFalse();
        }
    }

    /** Sets up one enabled server claiming an MMIO page and returns (page, channels, local port of vCPU 0). */
    private record Dm(MemorySegment page, XenEventChannels channels, int port) {}

    private Dm mmioServer() {
        int id = dm.createIoreqServer(DOM, 0);
        XenForeignMemory.ForeignMapping page = dom0.foreignMemory().mapResource(DOM, 0, id, 1, 1, true);
        dm.mapIoRangeToIoreqServer(DOM, id, true, 0xE000_0000L, 0xE000_0FFFL);
        dm.setIoreqServerState(DOM, id, true);
        XenEventChannels channels = dom0.openEventChannels();
        int port = channels.bindInterdomain(DOM, Ioreq.vpEport(page.segment(), 0));
        return new Dm(page.segment(), channels, port);
    }

    @Test
    void handshakeDeliversTheRequestBytesAndReturnsTheDeviceModelsData() throws Exception {
        Dm dmSide = mmioServer();
        CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> domain.mmio(0, 0xE000_0010L, 4, true, 0));
        assertThat(dmSide.channels().pending(5000)).isEqualTo(dmSide.port());
        MemorySegment page = dmSide.page();
        assertThat(Ioreq.stateAcquire(page, 0)).isEqualTo(Ioreq.STATE_READY);
        assertThat(Ioreq.type(page, 0)).isEqualTo(Ioreq.TYPE_COPY);
        assertThat(Ioreq.addr(page, 0)).isEqualTo(0xE000_0010L);
        assertThat(Ioreq.size(page, 0)).isEqualTo(4);
        assertThat(Ioreq.count(page, 0)).isEqualTo(1);
        assertThat(Ioreq.isRead(Ioreq.flagsAcquire(page, 0))).isTrue();
        Ioreq.stateRelease(page, 0, Ioreq.STATE_INPROCESS);
        Ioreq.data(page, 0, 0x1234_5678L);
        Ioreq.stateRelease(page, 0, Ioreq.STATE_IORESP_READY);
        dmSide.channels().notify(dmSide.port());
        assertThat(read.get(5, TimeUnit.SECONDS)).isEqualTo(0x1234_5678L);
        assertThat(Ioreq.stateAcquire(page, 0)).isEqualTo(Ioreq.STATE_NONE);
        assertThat(domain.crashReason()).isNull();
    }

    @Test
    void aStateGoingBackwardsCrashesTheDomain() throws Exception {
        Dm dmSide = mmioServer();
        CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> domain.mmio(0, 0xE000_0010L, 4, true, 0));
        assertThat(dmSide.channels().pending(5000)).isEqualTo(dmSide.port());
        Ioreq.stateRelease(dmSide.page(), 0, Ioreq.STATE_INPROCESS);
        dmSide.channels().notify(dmSide.port());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (domain.vcpus[0].lastSeen != Ioreq.STATE_INPROCESS && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        Ioreq.stateRelease(dmSide.page(), 0, Ioreq.STATE_READY); // backwards
        dmSide.channels().notify(dmSide.port());
        assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(GvtException.class);
        assertThat(domain.crashReason()).contains("Weird HVM ioreq state transition");
        assertThatThrownBy(() -> domain.mmio(0, 0xE000_0010L, 4, true, 0)).isInstanceOf(GvtException.class);
    }

    @Test
    void noneWhileARequestIsPendingCompletesWithAllOnes() throws Exception {
        Dm dmSide = mmioServer();
        CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> domain.mmio(0, 0xE000_0020L, 2, true, 0));
        assertThat(dmSide.channels().pending(5000)).isEqualTo(dmSide.port());
        Ioreq.stateRelease(dmSide.page(), 0, Ioreq.STATE_NONE);
        dmSide.channels().notify(dmSide.port());
        assertThat(read.get(5, TimeUnit.SECONDS)).isEqualTo(0xFFFFL);
        assertThat(domain.crashReason()).isNull();
    }

    @Test
    void aSlotThatIsNotNoneCrashesTheDomainInsteadOfBeingOverwritten() {
        Dm dmSide = mmioServer();
        Ioreq.stateRelease(dmSide.page(), 0, Ioreq.STATE_INPROCESS);
        assertThatThrownBy(() -> domain.mmio(0, 0xE000_0000L, 4, true, 0)).isInstanceOf(GvtException.class);
        assertThat(domain.crashReason()).startsWith("bad IO state");
    }

    @Test
    void accessesNoServerClaimsReadAllOnesAndWritesVanish() {
        mmioServer();
        assertThat(domain.mmio(1, 0xD000_0000L, 4, true, 0)).isEqualTo(0xFFFF_FFFFL);
        assertThat(domain.mmio(1, 0xE000_0FFEL, 4, true, 0)).as("straddles the end of the range").isEqualTo(0xFFFF_FFFFL);
        assertThat(domain.pio(1, 0x60, 1, true, 0)).isEqualTo(0xFFL);
        domain.pio(1, 0xCF8, 4, false, 0x8000_1000L); // 00:02.0, nobody claims it
        assertThat(domain.pio(1, 0xCFC, 4, true, 0)).isEqualTo(0xFFFF_FFFFL);
        assertThat(domain.pio(1, 0xCF8, 4, true, 0)).isEqualTo(0x8000_1000L);
    }

    @Test
    void msiCountsAndWaits() throws InterruptedException {
        dm.injectMsi(DOM, 0xFEE0_0000L, 0x41);
        assertThat(domain.awaitMsi(0, Duration.ofSeconds(1))).isEqualTo(1);
        assertThat(domain.lastMsiData()).isEqualTo(0x41);
        assertThat(dm.nrVcpus(DOM)).isEqualTo(2);
    }
}
