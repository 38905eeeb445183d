package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.concurrent.atomic.AtomicLong;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.Test;

final class VgpuLifecycleTest {
    private final VgpuManager manager = new VgpuManager(HostGeometry.defaults(), new ManualClock());

    static void assertCode(ErrorCode code, ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(GvtException.class)
                .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(code));
    }

    @Test
    void fullLifecycle() {
        Vgpu v = manager.create("GVTg_V5_4");
        assertThat(v.id()).isEqualTo(1);
        assertThat(v.state()).isEqualTo(VgpuState.CREATED);
        TestAttachment.attach(v, new FakeBinding(1 << 20));
        assertThat(v.state()).isEqualTo(VgpuState.ATTACHED);
        v.activate();
        assertThat(v.state()).isEqualTo(VgpuState.ACTIVE);
        v.reset();
        assertThat(v.state()).isEqualTo(VgpuState.ACTIVE);
        v.deactivate();
        v.detach();
        assertThat(v.state()).isEqualTo(VgpuState.CREATED);
        manager.destroy(1);
        assertThat(v.state()).isEqualTo(VgpuState.DESTROYED);
        assertThat(manager.get(1)).isEmpty();
    }

    @Test
    void invalidTransitionsAreTypedErrors() {
        Vgpu v = manager.create("GVTg_V5_8");
        assertCode(ErrorCode.ILLEGAL_STATE, v::activate);
        assertCode(ErrorCode.ILLEGAL_STATE, v::deactivate);
        assertCode(ErrorCode.ILLEGAL_STATE, v::detach);
        TestAttachment.attach(v, new FakeBinding(4096));
        assertCode(ErrorCode.ILLEGAL_STATE, () -> TestAttachment.attach(v, new FakeBinding(4096)));
        v.activate();
        assertCode(ErrorCode.ILLEGAL_STATE, v::activate);
        assertCode(ErrorCode.ILLEGAL_STATE, v::detach);
        assertCode(ErrorCode.ILLEGAL_STATE, () -> manager.destroy(v.id()));
        assertThat(manager.get(v.id())).contains(v);
        v.deactivate();
        manager.destroy(v.id());
        assertCode(ErrorCode.ILLEGAL_STATE, v::reset);
        assertCode(ErrorCode.ILLEGAL_STATE, () -> v.read(DeviceLayout.CONFIG, 0, 4));
        assertCode(ErrorCode.ILLEGAL_STATE, () -> TestAttachment.attach(v, new FakeBinding(4096)));
        assertCode(ErrorCode.NOT_FOUND, () -> manager.destroy(v.id()));
    }

    @Test
    void unknownOrUnfitTypesAreNotFoundAndExhaustionIsNoSpace() {
        assertCode(ErrorCode.NOT_FOUND, () -> manager.create("GVTg_V5_3"));
        VgpuManager small = new VgpuManager(new HostGeometry(4L << 30, 256L << 20, 32), new ManualClock());
        assertCode(ErrorCode.NOT_FOUND, () -> small.create("GVTg_V5_1"));
        small.create("GVTg_V5_8");
        small.create("GVTg_V5_8");
        assertCode(ErrorCode.NO_SPACE, () -> small.create("GVTg_V5_8"));
        assertThat(small.types()).allMatch(t -> t.availableInstances() == 0);
    }

    @Test
    void atMostSevenVgpusAndIdsAreReused() {
        VgpuManager many = new VgpuManager(new HostGeometry(4L << 30, 1L << 30, 32), new ManualClock());
        for (int i = 1; i <= 7; i++) {
            assertThat(many.create("GVTg_V5_8").id()).isEqualTo(i);
        }
        assertCode(ErrorCode.NO_SPACE, () -> many.create("GVTg_V5_8"));
        many.destroy(4);
        Vgpu again = many.create("GVTg_V5_8");
        assertThat(again.id()).isEqualTo(4);
    }

    @Test
    void availableInstancesFollowCreateAndDestroy() {
        long before = manager.types().get(0).availableInstances();
        Vgpu v = manager.create("GVTg_V5_8");
        assertThat(manager.types().get(0).availableInstances()).isEqualTo(before - 1);
        manager.destroy(v.id());
        assertThat(manager.types().get(0).availableInstances()).isEqualTo(before);
    }

    @Test
    void anAttachWhoseConnectFailsInstallsNothing() {
        Vgpu v = manager.create("GVTg_V5_8");
        assertCode(ErrorCode.NOT_FOUND, () -> v.attach(device -> {
            throw new GvtException(ErrorCode.NOT_FOUND, "no such guest");
        }));
        assertThat(v.state()).isEqualTo(VgpuState.CREATED);
        assertThat(v.read(DeviceLayout.BAR0, MmioSpace.GGTT_WINDOW_OFFSET, 8)).isZero();
        TestAttachment.attach(v, new FakeBinding(4096));
        assertThat(v.state()).isEqualTo(VgpuState.ATTACHED);
    }

    /** What the plugin forwards while attach runs waits for the whole attachment instead of meeting a detached vGPU. */
    @Test
    void anAccessDuringAttachMeetsTheInstalledAttachment() throws InterruptedException {
        Vgpu v = manager.create("GVTg_V5_8");
        long entry = MmioSpace.GGTT_WINDOW_OFFSET + (v.partition().aperture().base() >>> 12) * 8;
        AtomicLong seen = new AtomicLong(-1);
        Thread[] vmm = new Thread[1];
        v.attach(device -> {
            vmm[0] = Thread.ofPlatform().start(() -> seen.set(device.read(DeviceLayout.BAR0, entry, 8)));
            try {
                vmm[0].join(100); // the VMM's read has every chance to run while the attachment is being built
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            TestAttachment attachment = new TestAttachment(new FakeBinding(4096));
            attachment.ggtt().write(entry - MmioSpace.GGTT_WINDOW_OFFSET, 8, 0x5000 | 1);
            return attachment;
        });
        vmm[0].join(10_000);
        assertThat(seen.get()).isEqualTo(0x5001);
    }
}
