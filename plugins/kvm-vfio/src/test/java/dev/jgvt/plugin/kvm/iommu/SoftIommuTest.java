package dev.jgvt.plugin.kvm.iommu;

import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PROT_READ;
import static dev.jgvt.plugin.kvm.iommu.SoftIommu.PROT_WRITE;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

final class SoftIommuTest {
    private static final long P = SoftIommu.PAGE_SIZE;
    private static final int RW = PROT_READ | PROT_WRITE;

    private final Arena arena = Arena.ofShared();
    private final SoftIommu iommu = new SoftIommu();
    /** dma_unmap calls seen, as {iova, size}. */
    private final List<long[]> unmapCalls = new ArrayList<>();
    private final List<Pin> held = new ArrayList<>();

    @AfterEach
    void closeArena() {
        arena.close();
    }

    private MemorySegment ram(long pages) {
        return arena.allocate(pages * P, P);
    }

    /** A device that records dma_unmap calls and releases every pin it holds in the range. */
    private void registerCooperativeDevice() {
        iommu.register((iova, size) -> {
            unmapCalls.add(new long[] {iova, size});
            held.removeIf(p -> {
                if (Long.compareUnsigned(p.iova(), iova + size - 1) <= 0
                        && Long.compareUnsigned(p.iova() + p.count() * P - 1, iova) >= 0) {
                    p.close();
                    return true;
                }
                return false;
            });
        });
    }

    private static void assertErrno(ThrowingCallable call, int errno, ErrorCode code) {
        assertThatThrownBy(call).isInstanceOfSatisfying(IommuException.class, e -> {
            assertThat(e.errno()).as("errno of: " + e.getMessage()).isEqualTo(errno);
            assertThat(e.code()).as("code of: " + e.getMessage()).isEqualTo(code);
        });
    }

    @Nested
    final class Map {
        @Test
        void protMustBeReadAndOrWrite() {
            assertErrno(() -> iommu.map(0, P, 0, ram(1)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.map(0, P, 4, ram(1)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            iommu.map(0, P, PROT_READ, ram(1));
            iommu.map(P, P, PROT_WRITE, ram(1));
        }

        @Test
        void sizeAndIovaMustBeNonZeroAndPageAligned() {
            assertErrno(() -> iommu.map(0, 0, RW, ram(1)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.map(0x800, P, RW, ram(2)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.map(0, P + 1, RW, ram(2)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertThat(iommu.mappings()).isEmpty();
        }

        @Test
        void aRangeThatWrapsIsRejectedButTheTopPageIsMappable() {
            long top = 0xFFFF_FFFF_FFFF_F000L;
            assertErrno(() -> iommu.map(top, 2 * P, RW, ram(2)), Errno.EINVAL, ErrorCode.OUT_OF_RANGE);
            iommu.map(top, P, RW, ram(1));
            iommu.map(0, P, RW, ram(1));
            assertThat(iommu.mappings()).extracting(SoftIommu.MappingInfo::iova).containsExactly(0L, top);
            assertThat(iommu.isMapped(-1L)).isTrue();
        }

        @Test
        void backingMustCoverTheRangeAndBePageAligned() {
            assertErrno(() -> iommu.map(0, 2 * P, RW, ram(1)), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            MemorySegment misaligned = ram(2).asSlice(8, P);
            assertErrno(() -> iommu.map(0, P, RW, misaligned), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
        }

        @Test
        void everyKindOfOverlapIsEexistAndAdjacencyIsFine() {
            iommu.map(4 * P, 4 * P, RW, ram(4));
            assertErrno(() -> iommu.map(4 * P, 4 * P, RW, ram(4)), Errno.EEXIST, ErrorCode.ALREADY_EXISTS);
            assertErrno(() -> iommu.map(2 * P, 3 * P, RW, ram(3)), Errno.EEXIST, ErrorCode.ALREADY_EXISTS);
            assertErrno(() -> iommu.map(7 * P, 2 * P, RW, ram(2)), Errno.EEXIST, ErrorCode.ALREADY_EXISTS);
            assertErrno(() -> iommu.map(0, 16 * P, RW, ram(16)), Errno.EEXIST, ErrorCode.ALREADY_EXISTS);
            assertErrno(() -> iommu.map(5 * P, P, RW, ram(1)), Errno.EEXIST, ErrorCode.ALREADY_EXISTS);
            iommu.map(0, 4 * P, RW, ram(4));
            iommu.map(8 * P, P, RW, ram(1));
            assertThat(iommu.mappings()).hasSize(3);
        }

        @Test
        void the65536thMappingIsEnospcAndUnmappingOneMakesRoom() {
            MemorySegment page = MemorySegment.ofArray(new byte[(int) P]);
            for (int i = 0; i < SoftIommu.DEFAULT_DMA_ENTRY_LIMIT; i++) {
                iommu.map(i * P, P, RW, page);
            }
            assertThat(iommu.dmaAvail()).isZero();
            assertErrno(() -> iommu.map(70000 * P, P, RW, page), Errno.ENOSPC, ErrorCode.LIMIT_EXCEEDED);
            // overlap is checked before the limit, as in type1
            assertErrno(() -> iommu.map(0, P, RW, page), Errno.EEXIST, ErrorCode.ALREADY_EXISTS);
            assertThat(iommu.unmap(100 * P, P, 0)).isEqualTo(P);
            assertThat(iommu.dmaAvail()).isEqualTo(1);
            iommu.map(70000 * P, P, RW, page);
            assertThat(iommu.mappings()).hasSize(65535);
        }

        @Test
        void aConfiguredLimitApplies() {
            SoftIommu small = new SoftIommu(2);
            MemorySegment page = ram(1);
            small.map(0, P, RW, page);
            small.map(P, P, RW, page);
            assertErrno(() -> small.map(2 * P, P, RW, page), Errno.ENOSPC, ErrorCode.LIMIT_EXCEEDED);
        }
    }

    @Nested
    final class Unmap {
        @Test
        void argumentsAreChecked() {
            assertErrno(() -> iommu.unmap(0x10, P, 0), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.unmap(0, 0, 0), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.unmap(0, 0x1800, 0), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.unmap(-P, 2 * P, 0), Errno.EINVAL, ErrorCode.OUT_OF_RANGE);
            assertErrno(() -> iommu.unmap(0, P, 8), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.unmap(0, P, SoftIommu.UNMAP_FLAG_GET_DIRTY_BITMAP), Errno.EINVAL, ErrorCode.UNSUPPORTED);
        }

        @Test
        void bisectingAMappingAtEitherEndIsEinvalAndRemovesNothing() {
            iommu.map(0, 4 * P, RW, ram(4));
            iommu.map(8 * P, 4 * P, RW, ram(4));
            assertErrno(() -> iommu.unmap(P, 3 * P, 0), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.unmap(0, 2 * P, 0), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.unmap(0, 9 * P, 0), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertThat(iommu.mappings()).hasSize(2);
        }

        @Test
        void aRangeRemovesAllWholeMappingsInsideAndReturnsTheirBytes() {
            iommu.map(0, 4 * P, RW, ram(4));
            iommu.map(8 * P, 2 * P, RW, ram(2));
            iommu.map(10 * P, P, RW, ram(1));
            iommu.map(20 * P, P, RW, ram(1));
            assertThat(iommu.unmap(0, 16 * P, 0)).isEqualTo(7 * P);
            assertThat(iommu.mappings()).extracting(SoftIommu.MappingInfo::iova).containsExactly(20 * P);
            assertThat(iommu.dmaAvail()).isEqualTo(SoftIommu.DEFAULT_DMA_ENTRY_LIMIT - 1);
        }

        @Test
        void aRangeWithoutMappingsSucceedsWithZero() {
            iommu.map(8 * P, P, RW, ram(1));
            assertThat(iommu.unmap(0, 8 * P, 0)).isZero();
            assertThat(iommu.unmap(9 * P, P, 0)).isZero();
        }

        @Test
        void unmapAllNeedsZeroIovaAndSizeAndRemovesEverything() {
            iommu.map(0, P, RW, ram(1));
            iommu.map(-P, P, RW, ram(1));
            assertErrno(() -> iommu.unmap(P, 0, SoftIommu.UNMAP_FLAG_ALL), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.unmap(0, P, SoftIommu.UNMAP_FLAG_ALL), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertThat(iommu.unmapAll()).isEqualTo(2 * P);
            assertThat(iommu.mappings()).isEmpty();
            assertThat(iommu.unmapAll()).isZero();
        }
    }

    @Nested
    final class Pinning {
        @Test
        void pageCountIsChecked() {
            registerCooperativeDevice();
            iommu.map(0, 1024 * P, RW, ram(1024));
            assertErrno(() -> iommu.pin(0, 0, RW), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.pin(0, 513, RW), Errno.E2BIG, ErrorCode.LIMIT_EXCEEDED);
            try (Pin pin = iommu.pin(0, 512, RW)) {
                assertThat(pin.count()).isEqualTo(512);
                assertThat(iommu.pinCount(511 * P)).isEqualTo(1);
            }
            assertThat(iommu.pinCount(0)).isZero();
        }

        @Test
        void pinningNeedsARegisteredDevice() {
            iommu.map(0, P, RW, ram(1));
            assertErrno(() -> iommu.pin(0, 1, PROT_READ), Errno.EINVAL, ErrorCode.ILLEGAL_STATE);
        }

        @Test
        void anUnmappedPageFailsTheWholePinAndUnwindsTheOthers() {
            registerCooperativeDevice();
            iommu.map(0, 2 * P, RW, ram(2));
            iommu.map(3 * P, P, RW, ram(1));
            assertErrno(() -> iommu.pin(0, 4, PROT_READ), Errno.EINVAL, ErrorCode.NOT_MAPPED);
            assertThat(iommu.pinCount(0)).isZero();
            assertThat(iommu.pinCount(P)).isZero();
            assertThat(iommu.mappings()).allSatisfy(m -> assertThat(m.pinnedPages()).isZero());
        }

        @Test
        void accessMustBeASubsetOfTheMappingsProt() {
            registerCooperativeDevice();
            iommu.map(0, P, PROT_READ, ram(1));
            iommu.map(P, P, PROT_WRITE, ram(1));
            assertErrno(() -> iommu.pin(0, 1, PROT_WRITE), Errno.EPERM, ErrorCode.PERMISSION_DENIED);
            assertErrno(() -> iommu.pin(0, 1, RW), Errno.EPERM, ErrorCode.PERMISSION_DENIED);
            assertErrno(() -> iommu.pin(P, 1, PROT_READ), Errno.EPERM, ErrorCode.PERMISSION_DENIED);
            iommu.pin(0, 1, PROT_READ).close();
            iommu.pin(P, 1, PROT_WRITE).close();
        }

        @Test
        void pinsAreReferenceCountedPerPageAndCloseIsIdempotent() {
            registerCooperativeDevice();
            iommu.map(0, 4 * P, RW, ram(4));
            Pin a = iommu.pin(0, 2, PROT_READ);
            Pin b = iommu.pin(P + 0x123, 2, PROT_READ);
            assertThat(b.iova()).isEqualTo(P);
            assertThat(iommu.pinCount(0)).isEqualTo(1);
            assertThat(iommu.pinCount(P)).isEqualTo(2);
            assertThat(iommu.pinCount(2 * P)).isEqualTo(1);
            a.close();
            a.close();
            assertThat(iommu.pinCount(0)).isZero();
            assertThat(iommu.pinCount(P)).isEqualTo(1);
            b.close();
            assertThat(iommu.pinCount(P)).isZero();
        }

        @Test
        void pinnedViewsAreTheBackingAndAreRevokedOnClose() {
            registerCooperativeDevice();
            MemorySegment backing = ram(4);
            iommu.map(0x10_0000, 4 * P, RW, backing);
            Pin pin = iommu.pin(0x10_1000, 2, RW);
            pin.page(1).set(JAVA_LONG, 8, 0x55AAL);
            assertThat(backing.get(JAVA_LONG, 2 * P + 8)).isEqualTo(0x55AAL);
            assertThat(pin.contiguous()).hasValueSatisfying(s -> assertThat(s.byteSize()).isEqualTo(2 * P));
            MemorySegment view = pin.page(0);
            pin.close();
            assertThatThrownBy(() -> view.get(JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            assertThat(pin.isClosed()).isTrue();
        }

        @Test
        void aPinMaySpanMappingsButIsContiguousOnlyWhenTheHostPagesAre() {
            registerCooperativeDevice();
            iommu.map(0, P, RW, ram(1));
            iommu.map(P, P, RW, ram(1));
            try (Pin pin = iommu.pin(0, 2, PROT_READ)) {
                assertThat(pin.page(0).address() + P).isNotEqualTo(pin.page(1).address());
                assertThat(pin.contiguous()).isEmpty();
            }
        }
    }

    @Nested
    final class Interlock {
        @Test
        void unmapOfAPinnedMappingAsksTheDeviceWhichUnpinsThenItIsRemoved() {
            registerCooperativeDevice();
            iommu.map(0, 4 * P, RW, ram(4));
            iommu.map(4 * P, 4 * P, RW, ram(4));
            held.add(iommu.pin(5 * P, 2, PROT_READ));
            assertThat(iommu.unmap(0, 8 * P, 0)).isEqualTo(8 * P);
            assertThat(unmapCalls).singleElement().satisfies(c -> assertThat(c).containsExactly(4 * P, 4 * P));
            assertThat(held).isEmpty();
            assertThat(iommu.mappings()).isEmpty();
        }

        @Test
        void aDeviceThatNeverUnpinsGetsTenCallsThenTheUnmapFailsBusy() {
            int[] calls = new int[1];
            iommu.register((iova, size) -> calls[0]++);
            iommu.map(0, P, RW, ram(1));
            iommu.map(P, P, RW, ram(1));
            Pin stuck = iommu.pin(P, 1, PROT_READ);
            assertErrno(() -> iommu.unmap(0, 2 * P, 0), Errno.EBUSY, ErrorCode.BUSY);
            assertThat(calls[0]).isEqualTo(SoftIommu.UNMAP_RETRIES);
            // the unpinned mapping before it went; the pinned one stays usable
            assertThat(iommu.mappings()).extracting(SoftIommu.MappingInfo::iova).containsExactly(P);
            stuck.close();
            assertThat(iommu.unmap(P, P, 0)).isEqualTo(P);
            assertThat(calls[0]).isEqualTo(SoftIommu.UNMAP_RETRIES);
        }

        @Test
        void aDeviceThatUnpinsLateIsRetriedUntilItDoes() {
            iommu.map(0, P, RW, ram(1));
            Pin[] pin = new Pin[1];
            int[] calls = new int[1];
            iommu.register((iova, size) -> {
                if (++calls[0] == 3) {
                    pin[0].close();
                }
            });
            pin[0] = iommu.pin(0, 1, PROT_READ);
            assertThat(iommu.unmap(0, P, 0)).isEqualTo(P);
            assertThat(calls[0]).isEqualTo(3);
        }

        @Test
        void aThrowingCallbackCountsAsATryAndEndsInBusy() {
            iommu.register((iova, size) -> {
                throw new IllegalStateException("device broken");
            });
            iommu.map(0, P, RW, ram(1));
            iommu.pin(0, 1, PROT_READ);
            assertErrno(() -> iommu.unmapAll(), Errno.EBUSY, ErrorCode.BUSY);
        }

        @Test
        void everyRegisteredDeviceIsCalledAndUnregisteredOnesAreNot() {
            registerCooperativeDevice();
            int[] other = new int[1];
            SoftIommu.Registration r = iommu.register((iova, size) -> other[0]++);
            iommu.map(0, P, RW, ram(1));
            held.add(iommu.pin(0, 1, PROT_READ));
            iommu.unmapAll();
            assertThat(other[0]).isEqualTo(1);
            r.close();
            iommu.map(0, P, RW, ram(1));
            held.add(iommu.pin(0, 1, PROT_READ));
            iommu.unmapAll();
            assertThat(other[0]).isEqualTo(1);
            assertThat(unmapCalls).hasSize(2);
        }
    }

    @Nested
    final class DmaRw {
        @Test
        void readsAndWritesCrossMappingBoundaries() {
            MemorySegment a = ram(1);
            MemorySegment b = ram(2);
            iommu.map(0x1000, P, RW, a);
            iommu.map(0x2000, 2 * P, RW, b);
            MemorySegment src = arena.allocate(P + 16);
            for (int i = 0; i < src.byteSize(); i++) {
                src.set(JAVA_BYTE, i, (byte) i);
            }
            iommu.dmaRw(0x1FF8, src, true);
            assertThat(a.get(JAVA_BYTE, P - 8)).isEqualTo((byte) 0);
            assertThat(b.get(JAVA_BYTE, 0)).isEqualTo((byte) 8);
            MemorySegment back = arena.allocate(P + 16);
            iommu.dmaRw(0x1FF8, back, false);
            assertThat(back.mismatch(src)).isEqualTo(-1);
        }

        @Test
        void aGapFailsNotMappedAndWritesNothing() {
            MemorySegment a = ram(1);
            iommu.map(0, P, RW, a);
            iommu.map(2 * P, P, RW, ram(1));
            MemorySegment src = arena.allocate(3 * P).fill((byte) 7);
            assertErrno(() -> iommu.dmaRw(0, src, true), Errno.EINVAL, ErrorCode.NOT_MAPPED);
            assertThat(a.get(JAVA_BYTE, 0)).isZero();
            assertErrno(() -> iommu.dmaRw(5 * P, arena.allocate(1), false), Errno.EINVAL, ErrorCode.NOT_MAPPED);
        }

        @Test
        void permissionsAreEnforcedAndAFailedWriteWritesNothing() {
            MemorySegment rw = ram(1);
            iommu.map(0, P, RW, rw);
            iommu.map(P, P, PROT_READ, ram(1));
            iommu.map(2 * P, P, PROT_WRITE, ram(1));
            assertErrno(() -> iommu.dmaRw(P - 4, arena.allocate(8).fill((byte) 1), true), Errno.EPERM,
                    ErrorCode.PERMISSION_DENIED);
            assertThat(rw.get(JAVA_BYTE, P - 4)).isZero();
            iommu.dmaRw(P, arena.allocate(8), false);
            assertErrno(() -> iommu.dmaRw(2 * P, arena.allocate(8), false), Errno.EPERM, ErrorCode.PERMISSION_DENIED);
            assertErrno(() -> iommu.dmaRw(2 * P, arena.allocate(8), true), Errno.EPERM, ErrorCode.PERMISSION_DENIED);
        }

        @Test
        void aWrappingRangeIsOutOfRange() {
            iommu.map(-P, P, RW, ram(1));
            assertErrno(() -> iommu.dmaRw(-8, arena.allocate(16), false), Errno.EINVAL, ErrorCode.OUT_OF_RANGE);
            iommu.dmaRw(-8, arena.allocate(8), false);
        }
    }

    @Nested
    final class DirtyLogging {
        @Test
        void getBitmapNeedsTrackingAndTheMinimumPageSize() {
            iommu.map(0, P, RW, ram(1));
            assertErrno(() -> iommu.dirtyBitmap(0, P, P), Errno.EINVAL, ErrorCode.ILLEGAL_STATE);
            iommu.startDirtyTracking();
            assertErrno(() -> iommu.dirtyBitmap(0, P, 2 * P), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.dirtyBitmap(0, 0, P), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            iommu.stopDirtyTracking();
            assertErrno(() -> iommu.dirtyBitmap(0, P, P), Errno.EINVAL, ErrorCode.ILLEGAL_STATE);
        }

        @Test
        void writesAndPinsMarkPagesAndReadingResetsToThePinnedOnes() {
            registerCooperativeDevice();
            iommu.map(0, 8 * P, RW, ram(8));
            Pin early = iommu.pin(7 * P, 1, PROT_READ);
            iommu.startDirtyTracking();
            iommu.dmaRw(P + P - 2, arena.allocate(4), true);
            iommu.dmaRw(5 * P, arena.allocate(4), false);
            Pin late = iommu.pin(4 * P, 1, PROT_READ);
            assertThat(iommu.dirtyBitmap(0, 8 * P, P)).containsExactly(0b1001_0110L);
            assertThat(iommu.dirtyBitmap(0, 8 * P, P)).containsExactly(0b1001_0000L);
            late.close();
            early.close();
            assertThat(iommu.dirtyBitmap(0, 8 * P, P)).containsExactly(0b1001_0000L);
            assertThat(iommu.dirtyBitmap(0, 8 * P, P)).containsExactly(0L);
        }

        @Test
        void theRangeMustNotBisectAMappingButMayCoverGapsAndSeveralMappings() {
            iommu.map(2 * P, 2 * P, RW, ram(2));
            iommu.startDirtyTracking();
            iommu.map(70 * P, P, RW, ram(1));
            iommu.dmaRw(3 * P, arena.allocate(1), true);
            iommu.dmaRw(70 * P, arena.allocate(1), true);
            assertErrno(() -> iommu.dirtyBitmap(3 * P, P, P), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            assertErrno(() -> iommu.dirtyBitmap(2 * P, P, P), Errno.EINVAL, ErrorCode.INVALID_ARGUMENT);
            long[] bits = iommu.dirtyBitmap(0, 72 * P, P);
            assertThat(bits).containsExactly(1L << 3, 1L << (70 - 64));
        }
    }
}
