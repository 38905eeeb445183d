package dev.jgvt.core.mmio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.gtt.GgttWindow;
import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class MmioSpaceTest {
    private final List<String> ggttCalls = new ArrayList<>();
    private final GgttWindow ggtt = new GgttWindow() {
        @Override
        public long read(long offset, int size) {
            ggttCalls.add("r " + Long.toHexString(offset) + "/" + size);
            return 0x1122334455667788L;
        }

        @Override
        public void write(long offset, int size, long value) {
            ggttCalls.add("w " + Long.toHexString(offset) + "/" + size + "=" + Long.toHexString(value));
        }
    };
    private final List<Integer> resets = new ArrayList<>();
    private final List<String> submissions = new ArrayList<>();
    private MmioSpace mmio;

    @BeforeEach
    void setUp() {
        mmio = new MmioSpace(RegisterRegistry.gen9(), ggtt, "test");
        StandardHandlers.bind(mmio, 4, resets::add,
                (engine, e0, e1) -> submissions.add(engine + " " + Long.toHexString(e0) + " " + Long.toHexString(e1)));
    }

    @Test
    void plainRegistersStoreAllAccessSizes() {
        int tail = 0x2030;
        mmio.write(tail, 4, 0xDEADBEEFL);
        assertThat(mmio.read(tail, 4)).isEqualTo(0xDEADBEEFL);
        assertThat(mmio.read(tail, 2)).isEqualTo(0xBEEF);
        assertThat(mmio.read(tail + 2, 2)).isEqualTo(0xDEAD);
        assertThat(mmio.read(tail + 3, 1)).isEqualTo(0xDE);
        mmio.write(tail + 1, 1, 0x00);
        assertThat(mmio.read(tail, 4)).isEqualTo(0xDEAD00EFL);
        mmio.write(tail, 8, 0x0123456789ABCDEFL); // tail and head
        assertThat(mmio.read(tail, 4)).isEqualTo(0x89ABCDEFL);
        assertThat(mmio.read(0x2034, 4)).isEqualTo(0x01234567L);
        assertThat(mmio.read(tail, 8)).isEqualTo(0x0123456789ABCDEFL);
    }

    @Test
    void ringTimestampRunsAtTheRateI915DerivesFromCtcModeAndIgnoresWrites() throws InterruptedException {
        // i915 (Gen9): crystal source (bit 0 clear), 24 MHz >> (3 - shift parameter bits 2:1)
        long ctc = mmio.read(0xA26C, 4);
        assertThat(ctc & 1).isZero();
        assertThat(24_000_000L >> (3 - ((ctc >> 1) & 3))).isEqualTo(dev.jgvt.core.hw.CsTimestamp.HZ);
        for (Engine e : Engine.GT2) {
            int ts = e.mmioBase() + Gen9Registers.RING_TIMESTAMP;
            long first = mmio.read(ts, 8); // 64-bit read: low dword then the upper dword at +4
            Thread.sleep(5);
            mmio.write(ts, 4, 0);
            long second = (mmio.read(ts + 4, 4) << 32) | mmio.read(ts, 4);
            assertThat(second - first).as("%s: 5 ms at 12 MHz", e).isGreaterThanOrEqualTo(60_000).isLessThan(12_000_000L * 5);
        }
    }

    @Test
    void modeMaskedRegistersTakeOnlyEnabledBits() {
        int miMode = 0x209C;
        mmio.write(miMode, 4, 0x00FF_00FFL);
        assertThat(mmio.read(miMode, 4)).isEqualTo(0x00FF);
        mmio.write(miMode, 4, 0x0001_0000L); // clear bit 0 only
        assertThat(mmio.read(miMode, 4)).isEqualTo(0x00FE);
        mmio.write(miMode, 4, 0x0000_FFFFL); // no enable bits: nothing changes
        assertThat(mmio.read(miMode, 4)).isEqualTo(0x00FE);
    }

    @Test
    void readOnlyAndWriteOneToClear() {
        int status = 0x2234; // EXECLIST_STATUS_LO
        mmio.set(status, 0x55);
        mmio.write(status, 4, 0xFFFFFFFFL);
        assertThat(mmio.read(status, 4)).isEqualTo(0x55);
        int error = 0x40A0;
        mmio.set(error, 0b1111);
        mmio.write(error, 4, 0b0101);
        assertThat(mmio.read(error, 4)).isEqualTo(0b1010);
        mmio.write(error + 1, 1, 0xFF); // bytes the access does not cover clear nothing
        assertThat(mmio.read(error, 4)).isEqualTo(0b1010);
    }

    @Test
    void aNarrowWriteToAnOffsetWithoutARowMergesTheStoredBytesAndCountsOnce() {
        mmio.write(0x4, 4, 0x11223344L);
        long before = mmio.unhandledAccesses();
        mmio.write(0x5, 1, 0xAA); // the other bytes come from the stored value, not from a counted guest read
        assertThat(mmio.get(0x4)).isEqualTo(0x1122AA44);
        assertThat(mmio.unhandledAccesses()).isEqualTo(before + 1);
    }

    @Test
    void offsetsWithoutARowAreVirtualRegistersAndMisalignedAccessesDrop() {
        long before = mmio.unhandledAccesses();
        assertThat(mmio.read(0x4, 4)).isZero(); // no row: a virtual register initialised 0
        mmio.write(0x4, 4, 1);
        assertThat(mmio.get(0x4)).isEqualTo(1); // stored (GVT-g's vreg), logged once
        assertThat(mmio.read(0x4, 4)).isEqualTo(1);
        mmio.write(0x4, 4, 0);
        assertThat(mmio.read(0x2031, 2)).isZero();
        mmio.write(0x2032, 4, 0xFFFFFFFFL);
        assertThat(mmio.read(0x2030, 4)).isZero();
        assertThat(mmio.read(0x20_0000, 4)).isZero();
        mmio.write(0x7F_FFFC, 4, 1);
        assertThat(mmio.unhandledAccesses()).isEqualTo(before + 8);
        // logging once per offset does not stop counting
        for (int i = 0; i < 100; i++) {
            mmio.read(0x4, 4);
        }
        assertThat(mmio.unhandledAccesses()).isEqualTo(before + 108);
    }

    @Test
    void ggttWindowAccessesGoThroughUnchanged() {
        long base = MmioSpace.GGTT_WINDOW_OFFSET;
        mmio.write(base + 0x10, 8, 0xABCDEF0000001003L);
        mmio.write(base + 0x18, 4, 0x5003);
        assertThat(mmio.read(base + 0x7F_FFF8, 8)).isEqualTo(0x1122334455667788L);
        mmio.read(base + 2, 2);
        assertThat(ggttCalls).containsExactly("w 10/8=abcdef0000001003", "w 18/4=5003", "r 7ffff8/8", "r 2/2");
    }

    @Test
    void forcewakeAcksFollowRequests() {
        mmio.write(Gen9Registers.FORCEWAKE_RENDER, 4, 0x0001_0001L);
        assertThat(mmio.read(Gen9Registers.FORCEWAKE_ACK_RENDER, 4)).isEqualTo(1);
        mmio.write(Gen9Registers.FORCEWAKE_MEDIA, 4, 0x0001_0001L);
        assertThat(mmio.read(Gen9Registers.FORCEWAKE_ACK_MEDIA, 4)).isEqualTo(1);
        mmio.write(Gen9Registers.FORCEWAKE_BLITTER, 4, 0x0001_0001L);
        assertThat(mmio.read(Gen9Registers.FORCEWAKE_ACK_BLITTER, 4)).isEqualTo(1);
        mmio.write(Gen9Registers.FORCEWAKE_RENDER, 4, 0x0001_0000L);
        assertThat(mmio.read(Gen9Registers.FORCEWAKE_ACK_RENDER, 4)).isZero();
        assertThat(mmio.read(Gen9Registers.FORCEWAKE_ACK_MEDIA, 4)).isEqualTo(1);
        // the guest cannot write an ack
        mmio.write(Gen9Registers.FORCEWAKE_ACK_RENDER, 4, 1);
        assertThat(mmio.read(Gen9Registers.FORCEWAKE_ACK_RENDER, 4)).isZero();
    }

    @Test
    void pcuMailboxIsAlwaysReady() {
        mmio.write(Gen9Registers.PCODE_DATA, 4, 0);
        mmio.write(Gen9Registers.PCODE_MAILBOX, 4, StandardHandlers.PCODE_READY | StandardHandlers.PCODE_READ_MEM_LATENCY);
        assertThat(mmio.read(Gen9Registers.PCODE_MAILBOX, 4)).isZero(); // ready, error code 0
        assertThat(mmio.read(Gen9Registers.PCODE_DATA, 4)).isEqualTo(0x1E1A1100L);
        mmio.write(Gen9Registers.PCODE_DATA, 4, 1);
        mmio.write(Gen9Registers.PCODE_MAILBOX, 4, StandardHandlers.PCODE_READY | StandardHandlers.PCODE_READ_MEM_LATENCY);
        assertThat(mmio.read(Gen9Registers.PCODE_DATA, 4)).isEqualTo(0x61514B3DL);
        mmio.write(Gen9Registers.PCODE_MAILBOX, 4, StandardHandlers.PCODE_READY | 0x0300_0042);
        assertThat(mmio.read(Gen9Registers.PCODE_MAILBOX, 4)).isEqualTo(0x0300_0000L);
        mmio.write(Gen9Registers.PCODE_MAILBOX, 4, 0x17); // not started: stored as written
        assertThat(mmio.read(Gen9Registers.PCODE_MAILBOX, 4)).isEqualTo(0x17);
    }

    @Test
    void gtThreadStatusReadsIdle() {
        mmio.write(Gen9Registers.GT_THREAD_STATUS, 4, 0xFF);
        assertThat(mmio.read(Gen9Registers.GT_THREAD_STATUS, 4)).isZero();
    }

    @Test
    void gdrstHandsTheMaskOverAndReadsZero() {
        mmio.write(Gen9Registers.GDRST, 4, Engine.BCS.resetDomain());
        mmio.write(Gen9Registers.GDRST, 4, 0);
        assertThat(resets).containsExactly(Engine.BCS.resetDomain());
        assertThat(mmio.read(Gen9Registers.GDRST, 4)).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 5, 16, 31})
    void fenceIndexIsLimitedToTheVgpusFences(int index) {
        int lo = Gen9Registers.FENCE_BASE + 8 * index;
        long before = mmio.unhandledAccesses();
        mmio.write(lo, 8, -1L);
        assertThat(mmio.read(lo, 8)).isZero();
        assertThat(mmio.get(lo)).isZero();
        assertThat(mmio.unhandledAccesses()).isGreaterThan(before);
        int own = Gen9Registers.FENCE_BASE + 8 * (index % 4);
        mmio.write(own, 8, 0x0000_1000_0000_2001L);
        assertThat(mmio.read(own, 8)).isEqualTo(0x0000_1000_0000_2001L);
    }

    @Test
    void powerWellStateFollowsRequest() {
        mmio.write(Gen9Registers.PWR_WELL_DRIVER, 4, 0b1010_0010);
        assertThat(mmio.read(Gen9Registers.PWR_WELL_DRIVER, 4)).isEqualTo(0b1111_0011);
    }

    @Test
    void elspLatchesFourDwordsPerEngine() {
        int rcs = 0x2000 + Gen9Registers.RING_ELSP;
        int bcs = 0x22000 + Gen9Registers.RING_ELSP;
        mmio.write(rcs, 4, 0); // element 1 upper
        mmio.write(bcs, 4, 0x10);
        mmio.write(rcs, 4, 0);
        mmio.write(rcs, 4, 0x1); // element 0 upper
        assertThat(submissions).isEmpty();
        mmio.write(rcs, 4, 0x2000_0019L); // element 0 lower
        assertThat(submissions).containsExactly("RCS 120000019 0");
        assertThat(mmio.read(rcs, 4)).isZero();
    }

    @Test
    void tlbInvalidationCompletesAtOnce() {
        mmio.write(0x4260, 4, 1);
        assertThat(mmio.read(0x4260, 4)).isZero();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {3, 99, 2026})
    void randomAccessesAnywhereInBar0NeverThrow(long seed) {
        System.out.println("MmioSpaceTest seed " + seed);
        Random random = new Random(seed);
        for (int i = 0; i < 20000; i++) {
            int size = 1 << random.nextInt(4);
            long offset = random.nextInt(3) == 0 ? random.nextLong(MmioSpace.BAR0_SIZE - 8)
                    : RegisterRegistry.gen9().rows().get(random.nextInt(RegisterRegistry.gen9().rows().size())).offset() + random.nextInt(8);
            if (random.nextBoolean()) {
                mmio.write(offset, size, random.nextLong());
            } else {
                mmio.read(offset, size);
            }
        }
        // forcewake acks still mirror the requests after the storm
        assertThat(mmio.read(Gen9Registers.FORCEWAKE_ACK_RENDER, 4)).isEqualTo(mmio.read(Gen9Registers.FORCEWAKE_RENDER, 4));
    }
}
