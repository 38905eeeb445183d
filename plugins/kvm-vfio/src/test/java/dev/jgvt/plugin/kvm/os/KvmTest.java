package dev.jgvt.plugin.kvm.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** VM-level KVM mechanisms against the real {@code /dev/kvm}; skipped with the reason where it is unusable. */
final class KvmTest {
    @BeforeEach
    void requireKvm() {
        Optional<String> reason = Kvm.unavailableReason();
        assumeTrue(reason.isEmpty(), () -> "skipped: KVM unusable here: " + reason.orElse(""));
    }

    @Test
    void layoutsMatchTheUapi() {
        assertThat(Kvm.IRQFD.byteSize()).isEqualTo(32);
        assertThat(Kvm.ROUTING_ENTRY.byteSize()).isEqualTo(48);
        assertThat(Kvm.IOEVENTFD.byteSize()).isEqualTo(64);
    }

    @Test
    void apiVersionAndTheCapabilitiesMsiDeliveryNeeds() {
        try (Kvm kvm = Kvm.open()) {
            assertThat(kvm.apiVersion()).isEqualTo(12);
            assertThat(kvm.checkExtension(Kvm.CAP_IRQFD)).isPositive();
            assertThat(kvm.checkExtension(Kvm.CAP_IOEVENTFD)).isPositive();
            assertThat(kvm.checkExtension(Kvm.CAP_IRQ_ROUTING)).isPositive();
            assertThat(kvm.checkExtension(0x7FFF_FFFF)).isZero();
        }
    }

    @Test
    void anIrqfdOnAnMsiRouteIsConsumedByTheKernelUntilDeassigned() {
        try (Kvm kvm = Kvm.open(); Kvm.Vm vm = kvm.createVm(); EventFd msi = EventFd.create()) {
            vm.createIrqchip();
            vm.setMsiRouting(List.of(new Kvm.MsiRoute(24, 0xFEE0_0000L, 0x41)));
            vm.assignIrqfd(msi, 24);
            msi.signal();
            // KVM's irqfd wakeup reads the counter when it injects: nothing is left for user space
            assertThat(msi.tryRead()).isEmpty();
            vm.deassignIrqfd(msi, 24);
            msi.signal();
            assertThat(msi.tryRead()).hasValue(1);
        }
    }

    @Test
    void irqfdErrorsCarryTheErrno() {
        try (Kvm kvm = Kvm.open(); Kvm.Vm vm = kvm.createVm()) {
            vm.createIrqchip();
            EventFd closed = EventFd.create();
            closed.close();
            assertThatThrownBy(() -> vm.assignIrqfd(closed, 24)).hasMessage("ioctl(KVM_IRQFD): EBADF (errno 9)");
            assertThatThrownBy(vm::createIrqchip).hasMessage("ioctl(KVM_CREATE_IRQCHIP): EEXIST (errno 17)");
        }
    }

    @Test
    void ioeventfdAssignTwiceIsEexistAndDeassignWorks() {
        try (Kvm kvm = Kvm.open(); Kvm.Vm vm = kvm.createVm(); EventFd doorbell = EventFd.create()) {
            vm.assignIoeventfd(doorbell, 0xD000_1000L, 4, Optional.empty());
            assertThatThrownBy(() -> vm.assignIoeventfd(doorbell, 0xD000_1000L, 4, Optional.empty()))
                    .hasMessage("ioctl(KVM_IOEVENTFD): EEXIST (errno 17)");
            vm.assignIoeventfd(doorbell, 0xD000_2000L, 4, Optional.of(7L));
            vm.deassignIoeventfd(doorbell, 0xD000_1000L, 4, Optional.empty());
            vm.deassignIoeventfd(doorbell, 0xD000_2000L, 4, Optional.of(7L));
            assertThatThrownBy(() -> vm.deassignIoeventfd(doorbell, 0xD000_1000L, 4, Optional.empty()))
                    .hasMessageStartingWith("ioctl(KVM_IOEVENTFD, DEASSIGN): ");
        }
    }
}
