package dev.jgvt.core.display;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.core.mmio.AuxSink;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.mmio.RegisterRegistry;
import dev.jgvt.core.mmio.UnshadowedGgttWindow;
import org.junit.jupiter.api.Test;

final class DpMonitorTest {
    private static final int DATA = 0x64314;
    private final MmioSpace mmio = new MmioSpace(RegisterRegistry.gen9(), new UnshadowedGgttWindow(MmioSpace.GGTT_WINDOW_SIZE), "test");
    private final DpMonitor monitor = DpMonitor.forResolution(1024, 768);

    private int send(int... request) {
        for (int i = 0; i < request.length; i += 4) {
            int dw = 0;
            for (int b = 0; b < 4; b++) {
                dw |= (i + b < request.length ? request[i + b] & 0xFF : 0) << (24 - 8 * b);
            }
            mmio.set(DATA + i, dw);
        }
        return monitor.transact(3, mmio, DATA, request.length);
    }

    @Test
    void writesToTheSinkConfigurationStickAndResetClearsThem() {
        assertThat(send(0x80, 0x01, 0x00, 1, 0x0A, 0x84)).isEqualTo(1);
        assertThat(monitor.dpcd(0x100)).isEqualTo(0x0A);
        assertThat(monitor.dpcd(0x101)).isEqualTo(0x84);
        monitor.reset();
        assertThat(monitor.dpcd(0x100)).isZero();
        assertThat(monitor.dpcd(0x000)).isEqualTo(0x12);
    }

    @Test
    void unmodelledDpcdReadsZeroAndMalformedRequestsGetNoReplyOrANack() {
        assertThat(send(0x9F, 0xFF, 0x00, 3)).isEqualTo(5);
        assertThat(mmio.get(DATA) & 0x00FFFFFF).isZero();
        assertThat(monitor.transact(3, mmio, DATA, 2)).isEqualTo(AuxSink.NO_REPLY);
        assertThat(send(0x90, 0x00, 0x00, 19)).as("longer than 16 bytes").isEqualTo(1);
        assertThat(mmio.get(DATA) >>> 24).isEqualTo(0x10);
    }

    @Test
    void anInvalidEdidIsRefused() {
        assertThatThrownBy(() -> new DpMonitor(new byte[128])).isInstanceOf(IllegalArgumentException.class);
    }
}
