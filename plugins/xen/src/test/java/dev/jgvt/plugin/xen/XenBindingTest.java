package dev.jgvt.plugin.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.xen.abi.XenConst;
import dev.jgvt.plugin.xen.emu.EmulatedDomain;
import dev.jgvt.plugin.xen.emu.EmulatedXen;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InProcessGuest;
import dev.jgvt.spi.PageTracker;
import dev.jgvt.spi.PinnedPages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The plugin on the emulated Xen, driven through the emulated guest, against a device model double. */
final class XenBindingTest {
    private static final int DOMID = 7;
    private static final long RAM = 16L << 20;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private EmulatedXen xen;
    private EmulatedDomain domain;
    private XenHypervisor hypervisor;
    private TestVgpu vgpu;
    private XenGuestBinding binding;
    private InProcessGuest guest;

    @BeforeEach
    void attach() {
        xen = new EmulatedXen();
        domain = xen.createDomain(DOMID, RAM, 2);
        domain.ioreqTimeout(Duration.ofSeconds(5));
        hypervisor = new XenHypervisor(xen.backend(0), Optional.of(xen), XenSettings.from(Map.of("backend", "emulated")));
        vgpu = new TestVgpu();
        binding = (XenGuestBinding) hypervisor.attach(new AttachRequest("vgpu0", new AttachRequest.XenDomain(DOMID)), vgpu);
        vgpu.memory = binding.memory();
        guest = binding.inProcessGuest().orElseThrow();
    }

    @AfterEach
    void close() {
        hypervisor.close();
    }

    @Test
    void attachCreatesAnEnabledServerThatClaimsTheSbdfAndTheMemoryType() {
        int server = binding.server();
        assertThat(domain.serverIds()).containsExactly(server);
        assertThat(domain.serverEnabled(server)).isTrue();
        assertThat(domain.ranges(server, XenConst.IO_RANGE_PCI))
                .singleElement().satisfies(r -> assertThat(r).containsExactly(0x10, 0x10));
        assertThat(domain.memTypeClaimOwner()).isEqualTo(server);
        assertThat(domain.ranges(server, XenConst.IO_RANGE_MEMORY)).as("decode is off: no BAR claimed yet").isEmpty();
    }

    @Test
    void detachTearsEverythingDownAndIsIdempotent() {
        PinnedPages pin = binding.pages().pin(5, 2, GuestPages.Access.READ_WRITE);
        binding.close();
        binding.close();
        assertThat(domain.serverIds()).isEmpty();
        assertThat(domain.memTypeClaimOwner()).isEqualTo(-1);
        assertThat(pin.isClosed()).isTrue();
        assertThatThrownBy(() -> pin.page(0).get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> binding.memory()).isInstanceOf(GvtException.class)
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.ILLEGAL_STATE);
        // the domain is free for a new attach
        XenGuestBinding again = (XenGuestBinding) hypervisor.attach(
                new AttachRequest("vgpu1", new AttachRequest.XenDomain(DOMID)), new TestVgpu());
        assertThat(domain.serverIds()).containsExactly(again.server());
    }

    @Test
    void configReadsAndWritesTravelAsPciConfigIoreqsOnTheIoreqThread() {
        long before = binding.loop().handled();
        assertThat(guest.configRead(0x00, 4)).isEqualTo(0x1912_8086L);
        assertThat(guest.configRead(0x02, 2)).isEqualTo(0x1912L);
        assertThat(guest.configRead(0x01, 1)).isEqualTo(0x80L);
        assertThat(binding.loop().handled()).isGreaterThanOrEqualTo(before + 3);
        assertThat(vgpu.lastCaller[0].getName()).isEqualTo("xen-ioreq-dom" + DOMID);

        guest.configWrite(0x04, 2, 0x0006);
        assertThat(vgpu.configValue(0x04) & 0xFFFF).isEqualTo(0x0006);
        assertThat(guest.configRead(0x04, 2)).isEqualTo(0x0006L);
    }

    @Test
    void firmwareAssignsBarsAndDecodeClaimsThem() {
        guest.configRead(0, 4); // firmware runs on first access
        long bar0 = (vgpu.configValue(0x10) & ~0xFL) | (vgpu.configValue(0x14) << 32);
        long bar2 = (vgpu.configValue(0x18) & ~0xFL) | (vgpu.configValue(0x1C) << 32);
        assertThat(bar0).isNotZero().isEqualTo(bar0 & -TestVgpu.BAR0_SIZE);
        assertThat(bar2).isNotZero().isEqualTo(bar2 & -TestVgpu.BAR2_SIZE);
        assertThat(domain.ranges(binding.server(), XenConst.IO_RANGE_MEMORY)).isEmpty();

        guest.configWrite(0x04, 2, 0x0006);
        assertThat(domain.ranges(binding.server(), XenConst.IO_RANGE_MEMORY))
                .extracting(r -> r[0] + ":" + r[1])
                .containsExactlyInAnyOrder(bar0 + ":" + (bar0 + TestVgpu.BAR0_SIZE - 1),
                        bar2 + ":" + (bar2 + TestVgpu.BAR2_SIZE - 1));

        guest.configWrite(0x04, 2, 0x0000);
        assertThat(domain.ranges(binding.server(), XenConst.IO_RANGE_MEMORY)).isEmpty();
    }

    @Test
    void mmioGoesToTheRegionAtTheBarOffsetAndOnlyWhileDecodeIsOn() {
        guest.mmioWrite(DeviceLayout.BAR0, 0x2030, 4, 0xCAFE);
        assertThat(vgpu.register(DeviceLayout.BAR0, 0x2030)).as("decode off: dropped").isZero();
        assertThat(guest.mmioRead(DeviceLayout.BAR0, 0x2030, 4)).as("decode off: all ones").isEqualTo(0xFFFF_FFFFL);

        guest.configWrite(0x04, 2, 0x0006);
        guest.mmioWrite(DeviceLayout.BAR0, 0x2030, 4, 0xCAFE);
        guest.mmioWrite(DeviceLayout.BAR0, 0x80_0008, 8, 0x1234_5678_9ABC_DEF0L);
        guest.mmioWrite(DeviceLayout.BAR2, 0x10, 2, 0xBEEF);
        assertThat(vgpu.register(DeviceLayout.BAR0, 0x2030)).isEqualTo(0xCAFE);
        assertThat(vgpu.register(DeviceLayout.BAR0, 0x80_0008)).isEqualTo(0x1234_5678_9ABC_DEF0L);
        assertThat(vgpu.register(DeviceLayout.BAR2, 0x10)).isEqualTo(0xBEEF);
        assertThat(guest.mmioRead(DeviceLayout.BAR0, 0x2030, 4)).isEqualTo(0xCAFEL);
        assertThat(guest.mmioRead(DeviceLayout.BAR0, 0x80_0008, 8)).isEqualTo(0x1234_5678_9ABC_DEF0L);
        assertThat(guest.mmioRead(DeviceLayout.BAR0, 0x2030, 2)).isEqualTo(0xCAFEL);
    }

    @Test
    void movingBar0MovesTheClaim() {
        guest.configWrite(0x04, 2, 0x0006);
        guest.mmioWrite(DeviceLayout.BAR0, 0x100, 4, 1);
        long newBase = 0x2_0000_0000L;
        guest.configWrite(0x04, 2, 0x0000);
        guest.configWrite(0x10, 4, newBase & 0xFFFF_FFFFL);
        guest.configWrite(0x14, 4, newBase >>> 32);
        guest.configWrite(0x04, 2, 0x0006);
        assertThat(domain.ranges(binding.server(), XenConst.IO_RANGE_MEMORY))
                .anySatisfy(r -> assertThat(r).containsExactly(newBase, newBase + TestVgpu.BAR0_SIZE - 1));
        guest.mmioWrite(DeviceLayout.BAR0, 0x100, 4, 2);
        assertThat(vgpu.register(DeviceLayout.BAR0, 0x100)).isEqualTo(2);
        assertThat(domain.mmio(0, newBase + 0x100, 4, true, 0)).isEqualTo(2);
    }

    @Test
    void trackedWriteIsCommittedBeforeTheDeviceModelIsTold() {
        PageTracker tracker = binding.tracker().orElseThrow();
        long gfn = 0x123;
        tracker.track(gfn);
        assertThat(domain.memType(gfn)).isEqualTo(XenConst.HVMMEM_IOREQ_SERVER);

        long gpa = (gfn << 12) + 0x40;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(8);
            value.set(U64, 0, 0x0000_0001_2345_6003L);
            guest.ramWrite(gpa, value);
        }
        assertThat(domain.ram().get(U64, gpa)).isEqualTo(0x0000_0001_2345_6003L);
        assertThat(vgpu.trackedWrites()).singleElement().satisfies(t -> {
            assertThat(t.gpa()).isEqualTo(gpa);
            assertThat(t.bytes()).hasSize(8);
            assertThat(t.committedBeforeReport()).isTrue();
        });

        // an untracked frame: written by the CPU, nobody is told
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(8);
            value.set(U64, 0, 42);
            guest.ramWrite(0x200_000, value);
        }
        assertThat(domain.ram().get(U64, 0x200_000)).isEqualTo(42);
        assertThat(vgpu.trackedWrites()).hasSize(1);

        tracker.untrack(gfn);
        assertThat(domain.memType(gfn)).isEqualTo(XenConst.HVMMEM_RAM_RW);
    }

    @Test
    void aLongWriteAcrossFramesIsOneStringIoreqPerFrameAndOneReportPerTrackedFrame() {
        PageTracker tracker = binding.tracker().orElseThrow();
        tracker.track(0x20);
        tracker.track(0x21);
        byte[] bytes = new byte[300];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7 + 1);
        }
        long gpa = 0x20_F00; // 256 bytes in frame 0x20, 44 in frame 0x21
        guest.ramWrite(gpa, MemorySegment.ofArray(bytes));
        assertThat(domain.ram().asSlice(gpa, 300).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(bytes);
        assertThat(vgpu.trackedWrites()).extracting(TestVgpu.Tracked::gpa).containsExactly(gpa, 0x21_000L);
        assertThat(vgpu.trackedWrites()).extracting(t -> t.bytes().length).containsExactly(256, 44);
        assertThat(vgpu.trackedWrites()).allMatch(TestVgpu.Tracked::committedBeforeReport);
    }

    @Test
    void trackingIsReferenceCountedAndRejectsWhatIsNotRam() {
        PageTracker tracker = binding.tracker().orElseThrow();
        tracker.track(9);
        tracker.track(9);
        tracker.untrack(9);
        assertThat(tracker.isTracked(9)).isTrue();
        assertThat(domain.memType(9)).isEqualTo(XenConst.HVMMEM_IOREQ_SERVER);
        tracker.untrack(9);
        assertThat(tracker.isTracked(9)).isFalse();
        assertThatThrownBy(() -> tracker.untrack(9)).extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThatThrownBy(() -> tracker.track((RAM >>> 12) + 100)).extracting(e -> ((GvtException) e).code())
                .isEqualTo(ErrorCode.NOT_MAPPED);
    }

    @Test
    void msiIsInjectedOnlyWhileTheGuestHasItEnabled() throws InterruptedException {
        assertThat(binding.msi().capability()).isEqualTo(TestVgpu.MSI_CAP);
        binding.interrupts().signalMsi();
        assertThat(guest.msiCount()).isZero();
        assertThat(binding.interrupts().droppedSignals()).isEqualTo(1);

        guest.configWrite(TestVgpu.MSI_CAP + 4, 4, 0xFEE0_1000L);
        guest.configWrite(TestVgpu.MSI_CAP + 8, 2, 0x4041);
        binding.interrupts().signalMsi();
        assertThat(guest.msiCount()).as("address and data set, enable still clear").isZero();

        guest.configWrite(TestVgpu.MSI_CAP + 2, 2, 0x0001);
        binding.interrupts().signalMsi();
        assertThat(guest.awaitMsi(0, Duration.ofSeconds(5))).isEqualTo(1);
        assertThat(domain.lastMsiAddress()).isEqualTo(0xFEE0_1000L);
        assertThat(domain.lastMsiData()).isEqualTo(0x4041);

        guest.configWrite(TestVgpu.MSI_CAP + 2, 2, 0x0000);
        binding.interrupts().signalMsi();
        assertThat(guest.msiCount()).isEqualTo(1);
        assertThat(binding.interrupts().droppedSignals()).isEqualTo(3);
    }

    @Test
    void invalidateFlushesTheMapCache() {
        binding.memory().readLong(0x1000);
        binding.memory().readLong(0x30_0000);
        assertThat(binding.mapCache().mappedBuckets()).isEqualTo(2);
        domain.broadcastInvalidate(1);
        assertThat(binding.mapCache().mappedBuckets()).isZero();
        assertThat(binding.mapCache().flushes()).isEqualTo(1);
    }

    @Test
    void guestMemorySeesGuestRamAndHolesAreNotMapped() {
        domain.ram().set(U64, 0x5008, 0x1122_3344_5566_7788L);
        assertThat(binding.memory().readLong(0x5008)).isEqualTo(0x1122_3344_5566_7788L);
        binding.memory().writeLong(0x6000, 99);
        assertThat(domain.ram().get(U64, 0x6000)).isEqualTo(99);

        domain.unpopulate(0x300, 1);
        domain.broadcastInvalidate(0);
        assertThat(binding.memory().isBacked(0x300)).isFalse();
        assertThat(binding.memory().isBacked(0x2FF)).isTrue();
        assertThat(binding.memory().isBacked((RAM >>> 12) + 10_000)).isFalse();
        assertThatThrownBy(() -> binding.memory().readLong(0x300_000)).extracting(e -> ((GvtException) e).code())
                .isEqualTo(ErrorCode.NOT_MAPPED);
        // a write that crosses into the hole writes nothing
        domain.ram().set(U64, 0x2FF_FFC, 0);
        byte[] ones = new byte[8];
        java.util.Arrays.fill(ones, (byte) 0xFF);
        assertThatThrownBy(() -> binding.memory().write(0x2FF_FFC, MemorySegment.ofArray(ones)))
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.NOT_MAPPED);
        assertThat(domain.ram().get(ValueLayout.JAVA_INT, 0x2FF_FFC)).isZero();
    }

    @Test
    void pinsAreForeignMappingsOfTheFrames() {
        PinnedPages pin = binding.pages().pin(0x40, 3, GuestPages.Access.READ_WRITE);
        pin.page(1).set(U64, 16, 0xABCDL);
        assertThat(domain.ram().get(U64, 0x41_010)).isEqualTo(0xABCDL);
        assertThat(pin.contiguous()).get().satisfies(s -> assertThat(s.byteSize()).isEqualTo(3 * 4096));
        pin.close();
        pin.close();
        assertThatThrownBy(() -> pin.page(0).get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> binding.pages().pin(0, 513, GuestPages.Access.READ))
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
        assertThatThrownBy(() -> binding.pages().pin((RAM >>> 12) + 5, 1, GuestPages.Access.READ))
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.NOT_MAPPED);
    }

    @Test
    void aSecondAttachToTheSameDomainOrNameIsRefused() {
        assertThatThrownBy(() -> hypervisor.attach(new AttachRequest("other", new AttachRequest.XenDomain(DOMID)), new TestVgpu()))
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.ALREADY_EXISTS);
        assertThatThrownBy(() -> hypervisor.attach(new AttachRequest("vgpu0", new AttachRequest.XenDomain(8)), new TestVgpu()))
                .extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.ALREADY_EXISTS);
        assertThatThrownBy(() -> hypervisor.attach(new AttachRequest("x", new AttachRequest.UnixSocket(java.nio.file.Path.of("/tmp/s"))),
                new TestVgpu())).extracting(e -> ((GvtException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }
}
