package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.UnshadowedGgttWindow;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.Test;

final class VgpuLifecycleTest {
    private final VgpuManager manager = new VgpuManager(HostGeometry.defaults(), new ManualClock(),
            p -> new UnshadowedGgttWindow(MmioSpace.GGTT_WINDOW_SIZE));

    static void assertCode(ErrorCode code, ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(GvtException.class)
                .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(code));
    }

    @Test
    void fullLifecycle() {
        Vgpu v = manager.create("GVTg_V5_4");
        assertThat(v.id()).isEqualTo(1);
        assertThat(v.state()).isEqualTo(VgpuState.CREATED);
        v.attach(new FakeBinding(1 << 20));
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
        v.attach(new FakeBinding(4096));
        assertCode(ErrorCode.ILLEGAL_STATE, () -> v.attach(new FakeBinding(4096)));
        v.activate();
        assertCode(ErrorCode.ILLEGAL_STATE, v::activate);
        assertCode(ErrorCode.ILLEGAL_STATE, v::detach);
        assertCode(ErrorCode.ILLEGAL_STATE, () -> manager.destroy(v.id()));
        assertThat(manager.get(v.id())).contains(v);
        v.deactivate();
        manager.destroy(v.id());
        assertCode(ErrorCode.ILLEGAL_STATE, v::reset);
        assertCode(ErrorCode.ILLEGAL_STATE, () -> v.read(DeviceLayout.CONFIG, 0, 4));
        assertCode(ErrorCode.ILLEGAL_STATE, () -> v.attach(new FakeBinding(4096)));
        assertCode(ErrorCode.NOT_FOUND, () -> manager.destroy(v.id()));
    }

    @Test
    void unknownOrUnfitTypesAreNotFoundAndExhaustionIsNoSpace() {
        assertCode(ErrorCode.NOT_FOUND, () -> manager.create("GVTg_V5_3"));
        VgpuManager small = new VgpuManager(new HostGeometry(4L << 30, 256L << 20, 32), new ManualClock(),
                p -> new UnshadowedGgttWindow(MmioSpace.GGTT_WINDOW_SIZE));
        assertCode(ErrorCode.NOT_FOUND, () -> small.create("GVTg_V5_1"));
        small.create("GVTg_V5_8");
        small.create("GVTg_V5_8");
        assertCode(ErrorCode.NO_SPACE, () -> small.create("GVTg_V5_8"));
        assertThat(small.types()).allMatch(t -> t.availableInstances() == 0);
    }

    @Test
    void atMostSevenVgpusAndIdsAreReused() {
        VgpuManager many = new VgpuManager(new HostGeometry(4L << 30, 1L << 30, 32), new ManualClock(),
                p -> new UnshadowedGgttWindow(MmioSpace.GGTT_WINDOW_SIZE));
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
}
