package dev.jgvt.plugin.kvm.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.EventFd;
import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import java.lang.foreign.Arena;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class IrqEventFdsTest {
    private static final int EVENTFD_TRIGGER = IrqSet.DATA_EVENTFD | IrqSet.ACTION_TRIGGER;
    private final IrqEventFds irqs = new IrqEventFds(new DeviceLayout(0x8086, 0x1912, List.of(),
            List.of(new DeviceLayout.Irq(DeviceLayout.IRQ_INTX, 1), new DeviceLayout.Irq(DeviceLayout.IRQ_MSI, 1),
                    new DeviceLayout.Irq(2, 0), new DeviceLayout.Irq(5, 4))));

    @AfterEach
    void close() {
        irqs.close();
        pair[0].close();
        pair[1].close();
    }

    private final UnixSocket[] pair = UnixSocket.pair();

    /** The client keeps {@code mine}; the server side gets its own fd over SCM_RIGHTS. */
    private int dup(EventFd mine) {
        try (Arena arena = Arena.ofConfined()) {
            pair[0].send(arena.allocate(1), mine.fd());
            return pair[1].receive(arena.allocate(1), 1, true).fds()[0];
        }
    }

    private static IrqSet set(int flags, int index, int start, int count, byte... data) {
        return new IrqSet(20 + data.length, flags, index, start, count, data);
    }

    private static void assertErrno(ThrowingCallable call, int errno) {
        assertThatThrownBy(call).isInstanceOfSatisfying(IommuException.class, e -> assertThat(e.errno()).as(e.getMessage())
                .isEqualTo(errno));
    }

    @Test
    void msiWithoutABoundEventfdIsDroppedAndCounted() {
        irqs.signalMsi();
        irqs.signalIntx();
        assertThat(irqs.droppedSignals()).isEqualTo(2);
    }

    @Test
    void aBoundEventfdIsSignalledAndDeassignStopsIt() {
        try (EventFd msi = EventFd.create()) {
            irqs.apply(set(EVENTFD_TRIGGER, DeviceLayout.IRQ_MSI, 0, 1), new int[] {dup(msi)});
            assertThat(irqs.isBound(DeviceLayout.IRQ_MSI, 0)).isTrue();
            irqs.signalMsi();
            irqs.signalMsi();
            assertThat(msi.read()).isEqualTo(2);
            irqs.apply(set(EVENTFD_TRIGGER, DeviceLayout.IRQ_MSI, 0, 1), new int[0]);
            assertThat(irqs.isBound(DeviceLayout.IRQ_MSI, 0)).isFalse();
            irqs.signalMsi();
            assertThat(msi.tryRead()).isEmpty();
            assertThat(irqs.droppedSignals()).isEqualTo(1);
        }
    }

    @Test
    void rebindingReplacesAndClosesTheOldFd() {
        try (EventFd a = EventFd.create(); EventFd b = EventFd.create()) {
            int first = dup(a);
            irqs.apply(set(EVENTFD_TRIGGER, DeviceLayout.IRQ_INTX, 0, 1), new int[] {first});
            irqs.apply(set(EVENTFD_TRIGGER, DeviceLayout.IRQ_INTX, 0, 1), new int[] {dup(b)});
            assertThat(Libc.rawClose(first)).isEqualTo(-Errno.EBADF);
            irqs.signalIntx();
            assertThat(b.read()).isEqualTo(1);
            assertThat(a.tryRead()).isEmpty();
        }
    }

    @Test
    void disableUnbindsEveryVectorOfTheIndex() {
        try (EventFd a = EventFd.create(); EventFd b = EventFd.create()) {
            irqs.apply(set(EVENTFD_TRIGGER, 5, 1, 2), new int[] {dup(a), dup(b)});
            assertThat(irqs.isBound(5, 1)).isTrue();
            assertThat(irqs.isBound(5, 2)).isTrue();
            assertThat(irqs.isBound(5, 0)).isFalse();
            irqs.apply(set(IrqSet.DATA_NONE | IrqSet.ACTION_TRIGGER, 5, 0, 0), new int[0]);
            assertThat(irqs.isBound(5, 1)).isFalse();
            assertThat(irqs.isBound(5, 2)).isFalse();
        }
    }

    @Test
    void noneAndBoolTriggersFireFromTheClientSide() {
        try (EventFd a = EventFd.create(); EventFd b = EventFd.create()) {
            irqs.apply(set(EVENTFD_TRIGGER, 5, 0, 2), new int[] {dup(a), dup(b)});
            irqs.apply(set(IrqSet.DATA_NONE | IrqSet.ACTION_TRIGGER, 5, 0, 2), new int[0]);
            irqs.apply(set(IrqSet.DATA_BOOL | IrqSet.ACTION_TRIGGER, 5, 0, 2, (byte) 0, (byte) 1), new int[0]);
            assertThat(a.read()).isEqualTo(1);
            assertThat(b.read()).isEqualTo(2);
        }
    }

    @Test
    void theKernelsValidationRulesApplyAndRefusedFdsAreClosed() {
        try (EventFd e = EventFd.create()) {
            int fd = dup(e);
            assertErrno(() -> irqs.apply(set(EVENTFD_TRIGGER, 9, 0, 1), new int[] {fd}), Errno.EINVAL);
            assertThat(Libc.rawClose(fd)).isEqualTo(-Errno.EBADF);
            assertErrno(() -> irqs.apply(set(EVENTFD_TRIGGER, 2, 0, 1), new int[0]), Errno.EINVAL);
            assertErrno(() -> irqs.apply(set(EVENTFD_TRIGGER, 5, 3, 2), new int[0]), Errno.EINVAL);
            assertErrno(() -> irqs.apply(set(EVENTFD_TRIGGER, 5, 4, 1), new int[0]), Errno.EINVAL);
            assertErrno(() -> irqs.apply(set(EVENTFD_TRIGGER, 5, 0, 2), new int[] {dup(e)}), Errno.EINVAL);
            assertErrno(() -> irqs.apply(set(IrqSet.DATA_NONE | IrqSet.ACTION_TRIGGER, 5, 0, 1), new int[] {dup(e)}),
                    Errno.EINVAL);
            assertErrno(() -> irqs.apply(set(IrqSet.DATA_EVENTFD | IrqSet.ACTION_UNMASK, 0, 0, 1), new int[] {dup(e)}),
                    Errno.ENOTSUP);
            assertErrno(() -> irqs.apply(set(IrqSet.DATA_EVENTFD | IrqSet.DATA_BOOL | IrqSet.ACTION_TRIGGER, 0, 0, 1),
                    new int[0]), Errno.EINVAL);
            assertThatThrownBy(() -> irqs.apply(set(IrqSet.ACTION_MASK | IrqSet.DATA_NONE, 0, 0, 1), new int[0]))
                    .isInstanceOfSatisfying(IommuException.class, x -> assertThat(x.code()).isEqualTo(ErrorCode.UNSUPPORTED));
        }
    }

    @Test
    void closeReleasesTheBoundFds() {
        try (EventFd e = EventFd.create()) {
            int fd = dup(e);
            irqs.apply(set(EVENTFD_TRIGGER, DeviceLayout.IRQ_MSI, 0, 1), new int[] {fd});
            irqs.close();
            assertThat(Libc.rawClose(fd)).isEqualTo(-Errno.EBADF);
            assertThat(irqs.isBound(DeviceLayout.IRQ_MSI, 0)).isFalse();
        }
    }
}
