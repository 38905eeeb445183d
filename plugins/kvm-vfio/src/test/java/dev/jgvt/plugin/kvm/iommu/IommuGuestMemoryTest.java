package dev.jgvt.plugin.kvm.iommu;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.os.SharedMemory;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestPages.Access;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PinnedPages;
import dev.jgvt.spi.PlaneInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SPI view over the software IOMMU, with guest RAM in a memfd mapped twice (VMM side and server side). */
final class IommuGuestMemoryTest {
    private static final long P = SoftIommu.PAGE_SIZE;

    /** Plays the core: keeps its pins and closes those in an unmapped range (SPI contract 2). */
    private static final class CoreLikeDevice implements DeviceModel {
        final List<PinnedPages> pins = new ArrayList<>();
        final List<long[]> unmaps = new ArrayList<>();

        @Override
        public void dmaUnmapped(long iova, long length) {
            unmaps.add(new long[] {iova, length});
            pins.removeIf(p -> {
                long start = p.gfn() * P;
                boolean hit = start < iova + length && start + p.count() * P > iova;
                if (hit) {
                    p.close();
                }
                return hit;
            });
        }

        @Override
        public DeviceLayout layout() {
            throw new UnsupportedOperationException();
        }

        @Override
        public long read(int region, long offset, int size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void write(int region, long offset, int size, long value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void trackedWrite(long gpa, MemorySegment bytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void reset() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<PlaneInfo> queryPlane(PlaneInfo.PlaneType type) {
            return Optional.empty();
        }
    }

    private SharedMemory ram;
    private SharedMemory.Mapping vmmView;
    private SharedMemory.Mapping serverView;
    private final SoftIommu iommu = new SoftIommu();
    private final CoreLikeDevice device = new CoreLikeDevice();
    private IommuGuestMemory memory;

    @BeforeEach
    void setUp() {
        ram = SharedMemory.create("guest-ram", 16 * P);
        vmmView = ram.map(Libc.PROT_READ | Libc.PROT_WRITE);
        serverView = ram.map(Libc.PROT_READ | Libc.PROT_WRITE);
        // guest RAM [0, 8 pages) read-write and [1 MiB, +8 pages) read-only, both from the one memfd
        iommu.map(0, 8 * P, SoftIommu.PROT_READ | SoftIommu.PROT_WRITE, serverView.segment().asSlice(0, 8 * P));
        iommu.map(0x10_0000, 8 * P, SoftIommu.PROT_READ, serverView.segment().asSlice(8 * P, 8 * P));
        memory = new IommuGuestMemory(iommu, device);
    }

    @AfterEach
    void tearDown() {
        memory.close();
        serverView.close();
        vmmView.close();
        ram.close();
    }

    private static void assertCode(ThrowingCallable call, ErrorCode code, int errno) {
        assertThatThrownBy(call).isInstanceOfSatisfying(GvtException.class, e -> {
            assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
            assertThat(e.getCause()).isInstanceOfSatisfying(IommuException.class, c -> assertThat(c.errno()).isEqualTo(errno));
        });
    }

    @Test
    void readsAndWritesReachTheVmmsViewOfTheMemfd() {
        memory.writeLong(0x2008, 0x1234_5678_9ABC_DEF0L);
        assertThat(vmmView.segment().get(JAVA_LONG, 0x2008)).isEqualTo(0x1234_5678_9ABC_DEF0L);
        vmmView.segment().set(JAVA_LONG, 8 * P + 16, 42L);
        assertThat(memory.readLong(0x10_0010)).isEqualTo(42L);
    }

    @Test
    void errorsBecomeSpiCodesWithTheErrnoKept() {
        assertCode(() -> memory.readLong(0x9000), ErrorCode.NOT_MAPPED, Errno.EINVAL);
        assertCode(() -> memory.writeLong(0x10_0000, 1), ErrorCode.PERMISSION_DENIED, Errno.EPERM);
        try (Arena arena = Arena.ofConfined()) {
            assertCode(() -> memory.read(-4, arena.allocate(8)), ErrorCode.OUT_OF_RANGE, Errno.EINVAL);
        }
    }

    @Test
    void isBackedNeverThrows() {
        assertThat(memory.isBacked(0)).isTrue();
        assertThat(memory.isBacked(7)).isTrue();
        assertThat(memory.isBacked(8)).isFalse();
        assertThat(memory.isBacked(0x100)).isTrue();
        assertThat(memory.isBacked(-1)).isFalse();
        assertThat(memory.isBacked(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void pinArgumentsAndAccessAreChecked() {
        assertThatThrownBy(() -> memory.pin(0, 0, Access.READ)).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> memory.pin(-1, 1, Access.READ)).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> memory.pin(0, 513, Access.READ)).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED));
        assertThatThrownBy(() -> memory.pin((1L << 52) - 1, 2, Access.READ)).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_MAPPED));
        assertCode(() -> memory.pin(0x100, 1, Access.WRITE), ErrorCode.PERMISSION_DENIED, Errno.EPERM);
        assertCode(() -> memory.pin(0x100, 1, Access.READ_WRITE), ErrorCode.PERMISSION_DENIED, Errno.EPERM);
        assertCode(() -> memory.pin(6, 3, Access.READ), ErrorCode.NOT_MAPPED, Errno.EINVAL);
        memory.pin(0x100, 8, Access.READ).close();
    }

    @Test
    void aPinnedPageIsTheGuestFrameAndTheUnmapInterlockClosesIt() {
        PinnedPages pin = memory.pin(2, 2, Access.READ_WRITE);
        device.pins.add(pin);
        pin.page(1).set(JAVA_LONG, 0, 77L);
        assertThat(vmmView.segment().get(JAVA_LONG, 3 * P)).isEqualTo(77L);
        assertThat(memory.openPins()).isEqualTo(1);
        assertThat(iommu.unmap(0, 8 * P, 0)).isEqualTo(8 * P);
        assertThat(device.unmaps).singleElement().satisfies(u -> assertThat(u).containsExactly(0L, 8 * P));
        assertThat(pin.isClosed()).isTrue();
        assertThat(memory.openPins()).isZero();
        assertThat(memory.isBacked(2)).isFalse();
    }

    @Test
    void detachReleasesEveryPinAndThenRefusesService() {
        PinnedPages a = memory.pin(0, 1, Access.READ);
        PinnedPages b = memory.pin(0, 4, Access.WRITE);
        assertThat(iommu.pinCount(0)).isEqualTo(2);
        memory.close();
        memory.close();
        assertThat(a.isClosed()).isTrue();
        assertThat(b.isClosed()).isTrue();
        assertThat(iommu.pinCount(0)).isZero();
        assertThat(memory.isBacked(0)).isFalse();
        assertThatThrownBy(() -> memory.readLong(0)).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_STATE));
        assertThatThrownBy(() -> memory.pin(0, 1, Access.READ)).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_STATE));
        // the device is unregistered: a later unmap does not call it
        iommu.unmapAll();
        assertThat(device.unmaps).isEmpty();
    }
}
