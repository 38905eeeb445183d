package dev.jgvt.plugin.kvm.iommu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Map sizes that could not be unmapped, unsigned unmap totals, and mappings reached without host memory. */
final class SoftIommuRangeTest {
    private static final int RW = SoftIommu.PROT_READ | SoftIommu.PROT_WRITE;
    private final SoftIommu iommu = new SoftIommu();

    private static void assertErrno(Runnable call, int errno, ErrorCode code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(IommuException.class, e -> {
            assertThat(e.errno()).as(e.getMessage()).isEqualTo(errno);
            assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
        });
    }

    @Test
    void sizesOf2To63AndAboveAndWrappingRangesAreRefused() {
        SoftIommu.RemoteDma none = (iova, buf, write) -> {};
        assertErrno(() -> iommu.mapRemote(0, 0xFFFF_FFFF_FFFF_F000L, RW, none), Errno.EINVAL, ErrorCode.OUT_OF_RANGE);
        assertErrno(() -> iommu.mapRemote(0, Long.MIN_VALUE, RW, none), Errno.EINVAL, ErrorCode.OUT_OF_RANGE);
        assertErrno(() -> iommu.mapRemote(-4096, 8192, RW, none), Errno.EINVAL, ErrorCode.OUT_OF_RANGE);
        assertErrno(() -> SoftIommu.checkMapRange("x", 0, Long.MIN_VALUE), Errno.EINVAL, ErrorCode.OUT_OF_RANGE);
        assertThat(iommu.mappings()).isEmpty();
    }

    @Test
    void unmapTotalsAreUnsigned() {
        SoftIommu.RemoteDma none = (iova, buf, write) -> {};
        long half = Long.MAX_VALUE - 4095; // 2^63 - 4096, the largest mappable size
        iommu.mapRemote(0, half, RW, none);
        iommu.mapRemote(Long.MIN_VALUE, half, RW, none);
        List<Long> announced = new ArrayList<>();
        iommu.announceEveryUnmap();
        iommu.register((iova, length) -> announced.add(length));
        long total = iommu.unmapAll();
        assertThat(Long.toUnsignedString(total)).isEqualTo("18446744073709543424"); // 2^64 - 8192
        assertThat(announced).containsExactly(half, half);
    }

    @Test
    void remoteMappingsAreReachedOutsideTheLockAndCannotBePinned() {
        List<String> calls = new ArrayList<>();
        iommu.mapRemote(0x1000, 0x1000, RW, (iova, buf, write) -> {
            calls.add((write ? "w" : "r") + Long.toHexString(iova) + "+" + buf.byteSize());
            if (!write) {
                buf.fill((byte) 7);
            }
        });
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(0x1000, 4096);
            iommu.map(0x2000, 0x1000, RW, host);
            MemorySegment buf = arena.allocate(0x20);
            iommu.dmaRw(0x1FF0, buf, false); // 16 bytes remote, 16 bytes host
            assertThat(buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 7);
            assertThat(calls).containsExactly("r1ff0+16");
            iommu.register((iova, length) -> {});
            assertErrno(() -> iommu.pin(0x1000, 1, SoftIommu.PROT_READ), Errno.EFAULT, ErrorCode.IO_ERROR);
            assertThat(iommu.pin(0x2000, 1, SoftIommu.PROT_READ)).isNotNull();
        }
    }

    @Test
    void releaseRunsOnceTheMappingIsGone() {
        List<String> released = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            iommu.map(0, 0x1000, RW, arena.allocate(0x1000, 4096), () -> released.add("gone"));
            assertThat(released).isEmpty();
            assertThat(iommu.unmap(0, 0x1000, 0)).isEqualTo(0x1000);
            assertThat(released).containsExactly("gone");
        }
    }
}
