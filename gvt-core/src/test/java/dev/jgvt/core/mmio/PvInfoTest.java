package dev.jgvt.core.mmio;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class PvInfoTest {
    private static final int PAGE = Gen9Registers.PVINFO_PAGE;
    private final List<String> heard = new ArrayList<>();
    private MmioSpace mmio;
    private PvInfo pv;

    @BeforeEach
    void setUp() {
        mmio = new MmioSpace(RegisterRegistry.gen9(), new UnshadowedGgttWindow(MmioSpace.GGTT_WINDOW_SIZE), "test");
        pv = new PvInfo(mmio, 3, new PvInfo.Ballooning(0x1000_0000L, 0x800_0000L, 0x7000_0000L, 0x2000_0000L, 4));
        mmio.bind(Behavior.PVINFO, pv);
        pv.setListener(new PvNotificationListener() {
            @Override
            public void ppgtt(boolean created, int levels, long[] pdps) {
                heard.add((created ? "create L" : "destroy L") + levels + " " + Arrays.toString(pdps));
            }

            @Override
            public void execlistContext(boolean created, long descriptor) {
                heard.add((created ? "ctx create " : "ctx destroy ") + Long.toHexString(descriptor));
            }

            @Override
            public void displayReady(int value) {
                heard.add("display ready " + value);
            }

            @Override
            public void unknownNotification(int code) {
                heard.add("unknown " + code);
            }
        });
    }

    @Test
    void hostHalfDescribesTheVgpuAndIsReadOnly() {
        assertThat(mmio.read(PAGE, 8)).isEqualTo(0x4776544776544776L);
        assertThat(mmio.read(PAGE + 8, 2)).isEqualTo(1);
        assertThat(mmio.read(PAGE + 0xA, 2)).isZero();
        assertThat(mmio.read(PAGE + 0xC, 4)).isEqualTo(3);
        assertThat(mmio.read(PAGE + 0x10, 4)).isEqualTo(PvInfo.CAP_FULL_PPGTT | PvInfo.CAP_HWSP_EMULATION | PvInfo.CAP_HUGE_GTT);
        assertThat(mmio.read(PAGE + 0x40, 4)).isEqualTo(0x1000_0000L);
        assertThat(mmio.read(PAGE + 0x44, 4)).isEqualTo(0x800_0000L);
        assertThat(mmio.read(PAGE + 0x48, 4)).isEqualTo(0x7000_0000L);
        assertThat(mmio.read(PAGE + 0x4C, 4)).isEqualTo(0x2000_0000L);
        assertThat(mmio.read(PAGE + 0x50, 4)).isEqualTo(4);
        mmio.write(PAGE + 0x40, 4, 0);
        assertThat(mmio.read(PAGE + 0x40, 4)).isEqualTo(0x1000_0000L);
        // an undefined offset of the page reads 0
        assertThat(mmio.read(PAGE + 0x20, 4)).isZero();
        assertThat(pv.notified()).isTrue();
    }

    @Test
    void g2vNotificationsCarryTheirRootsAndDescriptors() {
        mmio.write(PAGE + 0x838, 8, 0x1_2345_6000L); // pdp[0]
        mmio.write(PAGE + 0x840, 8, 0x2000L);
        mmio.write(PAGE + 0x818, 4, PvInfo.G2V_PPGTT_L4_CREATE);
        mmio.write(PAGE + 0x818, 4, PvInfo.G2V_PPGTT_L3_DESTROY);
        mmio.write(PAGE + 0x858, 8, 0xABCD_0000_1000_0019L);
        mmio.write(PAGE + 0x818, 4, PvInfo.G2V_EXECLIST_CONTEXT_CREATE);
        mmio.write(PAGE + 0x818, 4, PvInfo.G2V_EXECLIST_CONTEXT_DESTROY);
        mmio.write(PAGE + 0x818, 4, 99);
        mmio.write(PAGE + 0x804, 4, 1);
        assertThat(heard).containsExactly(
                "create L4 " + Arrays.toString(new long[] {0x1_2345_6000L, 0x2000L, 0, 0}),
                "destroy L3 " + Arrays.toString(new long[] {0x1_2345_6000L, 0x2000L, 0, 0}),
                "ctx create abcd000010000019",
                "ctx destroy abcd000010000019",
                "unknown 99",
                "display ready 1");
    }

    @Test
    void cursorHotspotDefaultsToUnset() {
        assertThat(pv.cursorHotX()).isEqualTo(-1);
        mmio.write(PAGE + 0x830, 4, 5);
        mmio.write(PAGE + 0x834, 4, 6);
        assertThat(pv.cursorHotX()).isEqualTo(5);
        assertThat(pv.cursorHotY()).isEqualTo(6);
        pv.reset();
        assertThat(pv.cursorHotY()).isEqualTo(-1);
        assertThat(pv.notified()).isFalse();
    }
}
