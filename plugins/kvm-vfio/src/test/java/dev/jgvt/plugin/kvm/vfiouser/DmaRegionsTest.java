package dev.jgvt.plugin.kvm.vfiouser;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.iommu.SoftIommu;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.EventFd;
import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.os.SharedMemory;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class DmaRegionsTest {
    private static final int RW = DmaMap.FLAG_READ | DmaMap.FLAG_WRITE;
    private final SoftIommu iommu = new SoftIommu();
    private final DmaRegions regions = new DmaRegions(iommu);
    private final SharedMemory ram = SharedMemory.create("guest-ram", 16 * 4096);
    private final SharedMemory.Mapping vmm = ram.map(Libc.PROT_READ | Libc.PROT_WRITE);

    @AfterEach
    void tearDown() {
        regions.close();
        vmm.close();
        ram.close();
    }

    /** A fresh fd for the memfd, as the server would receive it over SCM_RIGHTS. */
    private int reopen() {
        int fd = Libc.rawOpen("/proc/self/fd/" + ram.fd(), Libc.O_RDWR | Libc.O_CLOEXEC);
        return (int) Libc.check("open", fd);
    }

    private static void assertErrno(ThrowingCallable call, int errno, ErrorCode code) {
        assertThatThrownBy(call).isInstanceOfSatisfying(IommuException.class, e -> {
            assertThat(e.errno()).as(e.getMessage()).isEqualTo(errno);
            assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
        });
    }

    @Test
    void anFdBackedRegionIsMappedIntoTheIommuAndTheFdIsClosed() {
        int fd = reopen();
        vmm.segment().set(JAVA_LONG, 3 * 4096 + 8, 0xABCDL);
        regions.map(new DmaMap(32, RW, 2 * 4096, 0x10_0000, 4 * 4096), fd);
        assertThat(Libc.rawClose(fd)).isEqualTo(-Errno.EBADF);
        assertThat(regions.regions()).containsExactly(new DmaRegions.Region(0x10_0000, 4 * 4096, RW));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            iommu.dmaRw(0x10_1008, buf, false);
            assertThat(buf.get(JAVA_LONG, 0)).isEqualTo(0xABCDL);
            buf.set(JAVA_LONG, 0, 0x77L);
            iommu.dmaRw(0x10_3000, buf, true);
            assertThat(vmm.segment().get(JAVA_LONG, 5 * 4096)).isEqualTo(0x77L);
        }
    }

    @Test
    void readOnlyRegionsAreReadOnlyInTheIommu() {
        regions.map(new DmaMap(32, DmaMap.FLAG_READ, 0, 0, 4096), reopen());
        try (Arena arena = Arena.ofConfined()) {
            assertErrno(() -> iommu.dmaRw(0, arena.allocate(8), true), Errno.EPERM, ErrorCode.PERMISSION_DENIED);
        }
    }

    @Test
    void badRequestsFailWithTheErrnoAndStillCloseTheFd() {
        List<Integer> fds = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            fds.add(reopen());
        }
        assertErrno(() -> regions.map(new DmaMap(32, 4 | RW, 0, 0, 4096), fds.get(0)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
        assertErrno(() -> regions.map(new DmaMap(32, 0, 0, 0, 4096), fds.get(1)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
        assertErrno(() -> regions.map(new DmaMap(32, RW, 100, 0, 4096), fds.get(2)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
        assertErrno(() -> regions.map(new DmaMap(32, RW, 15 * 4096, 0, 2 * 4096), fds.get(3)), Errno.EINVAL,
                ErrorCode.OUT_OF_RANGE);
        regions.map(new DmaMap(32, RW, 0, 0, 4096), fds.get(4));
        assertErrno(() -> regions.map(new DmaMap(32, RW, 0, 0, 4096), reopen()), Errno.EEXIST, ErrorCode.ALREADY_EXISTS);
        assertErrno(() -> regions.map(new DmaMap(32, RW, 0, 0x1000, 4096), -1), Errno.ENOTSUP, ErrorCode.UNSUPPORTED);
        for (int fd : fds) {
            assertThat(Libc.rawClose(fd)).isEqualTo(-Errno.EBADF);
        }
        assertThat(regions.regions()).hasSize(1);
    }

    @Test
    void anFdWithoutThatManyBytesIsRefusedBeforeMmapAndStillClosed() {
        // an eventfd has size 0 to lseek, so the size check refuses it before any mmap could fault later
        int fd = EventFd.create().fd();
        assertErrno(() -> regions.map(new DmaMap(32, RW, 0, 0, 4096), fd), Errno.EINVAL, ErrorCode.OUT_OF_RANGE);
        assertThat(Libc.rawClose(fd)).isEqualTo(-Errno.EBADF);
    }

    @Test
    void unmapNeedsAnExactMatchOrAll() {
        regions.map(new DmaMap(32, RW, 0, 0, 2 * 4096), reopen());
        regions.map(new DmaMap(32, RW, 0, 0x10000, 4096), reopen());
        assertErrno(() -> regions.unmap(new DmaUnmap(24, 0, 0, 4096)), Errno.ENOENT, ErrorCode.NOT_FOUND);
        assertErrno(() -> regions.unmap(new DmaUnmap(24, 0, 0x1000, 4096)), Errno.ENOENT, ErrorCode.NOT_FOUND);
        assertErrno(() -> regions.unmap(new DmaUnmap(24, DmaUnmap.FLAG_ALL, 0, 4096)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
        assertErrno(() -> regions.unmap(new DmaUnmap(24, 8, 0, 4096)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
        assertThat(regions.unmap(new DmaUnmap(24, 0, 0, 2 * 4096))).isEqualTo(2 * 4096);
        assertThat(iommu.isMapped(0)).isFalse();
        assertThat(regions.unmap(new DmaUnmap(24, DmaUnmap.FLAG_ALL, 0, 0))).isEqualTo(4096);
        assertThat(regions.regions()).isEmpty();
        assertThat(iommu.mappings()).isEmpty();
    }

    @Test
    void unmapGoesThroughTheInterlockAndAStuckPinKeepsTheRegion() {
        regions.map(new DmaMap(32, RW, 0, 0, 4096), reopen());
        iommu.register((iova, size) -> {});
        dev.jgvt.plugin.kvm.iommu.Pin pin = iommu.pin(0, 1, SoftIommu.PROT_READ);
        assertErrno(() -> regions.unmap(new DmaUnmap(24, 0, 0, 4096)), Errno.EBUSY, ErrorCode.BUSY);
        assertThat(regions.regions()).hasSize(1);
        assertThat(iommu.isMapped(0)).isTrue();
        regions.close(); // logs the stuck region, does not throw
        assertThat(regions.regions()).hasSize(1);
        pin.close();
        assertThat(regions.unmap(new DmaUnmap(24, 0, 0, 4096))).isEqualTo(4096);
    }

    @Test
    void afterCloseNothingIsMappedAndMapsFail() {
        regions.map(new DmaMap(32, RW, 0, 0, 4096), reopen());
        regions.close();
        assertThat(iommu.mappings()).isEmpty();
        assertErrno(() -> regions.map(new DmaMap(32, RW, 0, 0, 4096), reopen()), Errno.EINVAL, ErrorCode.ILLEGAL_STATE);
    }
}
