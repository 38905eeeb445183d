package dev.jgvt.plugin.fake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.InProcessGuest;
import dev.jgvt.testing.fixtures.RecordingDeviceModel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The guest side of the fake: trapped config/BAR accesses with memory-enable gating, tracked RAM writes. */
final class FakeInProcessGuestTest {
    private static final int PAGE = 4096;

    private final FakeHypervisor hypervisor = new FakeHypervisorPlugin().open(new HostContext() {});
    private final RecordingDeviceModel device = new RecordingDeviceModel();
    private final FakeGuest guest = FakeGuest.of(
            hypervisor.attach(new AttachRequest("vgpu-g", new AttachRequest.InProcess("g", 1L << 20)), device));
    private final InProcessGuest side = guest.inProcessGuest().orElseThrow();

    @Test
    void configAccessesReachTheDevice() {
        assertThat(side.configRead(0, 2)).isEqualTo(RecordingDeviceModel.VENDOR_ID);
        assertThat(side.configRead(0, 4)).isEqualTo(((long) RecordingDeviceModel.DEVICE_ID << 16) | RecordingDeviceModel.VENDOR_ID);
        side.configWrite(0x40, 4, 0xDEAD_BEEFL);
        assertThat(side.configRead(0x40, 4)).isEqualTo(0xDEAD_BEEFL);
        assertThat(device.accesses(DeviceLayout.CONFIG)).contains(
                new RecordingDeviceModel.Access(RecordingDeviceModel.Access.Kind.WRITE, DeviceLayout.CONFIG, 0x40, 4, 0xDEAD_BEEFL));
        assertThat(((GvtException) catchThrowable(() -> side.configRead(0, 8))).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(((GvtException) catchThrowable(() -> side.mmioRead(DeviceLayout.CONFIG, 0, 4))).code())
                .isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void mmioHonoursTheMemoryEnableBit() {
        // power-on: memory decoding off, reads float to all ones, writes are dropped
        assertThat(side.mmioRead(DeviceLayout.BAR0, 0x100, 1)).isEqualTo(0xFF);
        assertThat(side.mmioRead(DeviceLayout.BAR0, 0x100, 2)).isEqualTo(0xFFFF);
        assertThat(side.mmioRead(DeviceLayout.BAR0, 0x100, 4)).isEqualTo(0xFFFF_FFFFL);
        assertThat(side.mmioRead(DeviceLayout.BAR0, 0x100, 8)).isEqualTo(-1L);
        side.mmioWrite(DeviceLayout.BAR0, 0x100, 4, 0x1234);
        assertThat(device.accesses(DeviceLayout.BAR0)).as("nothing reaches BAR0 while memory is disabled").isEmpty();

        side.configWrite(RecordingDeviceModel.PCI_COMMAND, 2, RecordingDeviceModel.PCI_COMMAND_MEMORY);
        side.mmioWrite(DeviceLayout.BAR0, 0x100, 4, 0x1234);
        assertThat(side.mmioRead(DeviceLayout.BAR0, 0x100, 4)).isEqualTo(0x1234);
        side.mmioWrite(DeviceLayout.BAR2, 8, 8, 0x0102_0304_0506_0708L);
        assertThat(side.mmioRead(DeviceLayout.BAR2, 8, 8)).isEqualTo(0x0102_0304_0506_0708L);

        side.configWrite(RecordingDeviceModel.PCI_COMMAND, 2, 0);
        assertThat(side.mmioRead(DeviceLayout.BAR0, 0x100, 4)).as("disabled again").isEqualTo(0xFFFF_FFFFL);
        assertThat(device.read(DeviceLayout.BAR0, 0x100, 4)).as("the register kept its value").isEqualTo(0x1234);
    }

    @Test
    void barAccessesDoNotReadConfigSpaceEachTimeButSeeEveryCommandChange() {
        side.configWrite(RecordingDeviceModel.PCI_COMMAND, 2, RecordingDeviceModel.PCI_COMMAND_MEMORY);
        int configReads = configReads();
        for (int i = 0; i < 100; i++) {
            side.mmioWrite(DeviceLayout.BAR0, 0x100, 4, i);
            side.mmioRead(DeviceLayout.BAR0, 0x100, 4);
        }
        assertThat(configReads() - configReads).as("one read of the command register for 200 BAR accesses").isEqualTo(1);
        assertThat(device.accesses(DeviceLayout.BAR0)).hasSize(200);

        side.configWrite(RecordingDeviceModel.PCI_COMMAND, 2, 0);
        assertThat(side.mmioRead(DeviceLayout.BAR0, 0x100, 4)).as("disabled by a config write").isEqualTo(0xFFFF_FFFFL);
        side.configWrite(RecordingDeviceModel.PCI_COMMAND, 2, RecordingDeviceModel.PCI_COMMAND_MEMORY);
        assertThat(side.mmioRead(DeviceLayout.BAR0, 0x100, 4)).as("enabled again").isEqualTo(99);
        guest.resetDevice();
        assertThat(side.mmioRead(DeviceLayout.BAR0, 0x100, 4)).as("a device reset disables decoding").isEqualTo(0xFFFF_FFFFL);
    }

    private int configReads() {
        return (int) device.accesses(DeviceLayout.CONFIG).stream()
                .filter(a -> a.kind() == RecordingDeviceModel.Access.Kind.READ).count();
    }

    @Test
    void deviceErrorsOfBadAccessesReachTheGuestTyped() {
        side.configWrite(RecordingDeviceModel.PCI_COMMAND, 2, RecordingDeviceModel.PCI_COMMAND_MEMORY);
        assertThat(((GvtException) catchThrowable(() -> side.mmioRead(DeviceLayout.BAR0, RecordingDeviceModel.BAR0_SIZE, 4))).code())
                .isEqualTo(ErrorCode.OUT_OF_RANGE);
        assertThat(((GvtException) catchThrowable(() -> side.mmioWrite(DeviceLayout.BAR0, 0, 3, 0))).code())
                .isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void ramWriteIsCommittedAndReportedFrameByFrame() {
        guest.tracker().orElseThrow().track(2);
        guest.tracker().orElseThrow().track(3);
        guest.tracker().orElseThrow().track(4);
        byte[] data = new byte[3 * PAGE];
        new SplittableRandom(3).nextBytes(data);
        long gpa = 2L * PAGE + 1000;
        List<String> inside = new ArrayList<>();
        List<MemorySegment> kept = new ArrayList<>();
        device.onTrackedWrite((at, bytes) -> {
            kept.add(bytes);
            assertThat(bytes.isReadOnly()).isTrue();
            long frame = at / PAGE;
            byte[] here = new byte[(int) bytes.byteSize()];
            guest.memory().read(at, MemorySegment.ofArray(here));
            long next = (frame + 1) * PAGE;
            byte[] following = new byte[16];
            guest.memory().read(next, MemorySegment.ofArray(following));
            int offsetOfNext = (int) (next - gpa);
            boolean nextWritten = offsetOfNext + 16 <= data.length
                    && Arrays.equals(following, Arrays.copyOfRange(data, offsetOfNext, offsetOfNext + 16));
            inside.add(frame + ":" + Arrays.equals(here, bytes.toArray(ValueLayout.JAVA_BYTE)) + ":" + nextWritten);
        });

        side.ramWrite(gpa, MemorySegment.ofArray(data));

        List<RecordingDeviceModel.TrackedWrite> reports = device.trackedWrites();
        assertThat(reports).extracting(RecordingDeviceModel.TrackedWrite::gpa).containsExactly(gpa, 3L * PAGE, 4L * PAGE);
        assertThat(reports).extracting(r -> r.bytes().length).containsExactly(PAGE - 1000, PAGE, PAGE);
        assertThat(reports.get(2).bytes()).isEqualTo(Arrays.copyOfRange(data, 2 * PAGE - 1000, 3 * PAGE - 1000));
        assertThat(reports).extracting(RecordingDeviceModel.TrackedWrite::thread).containsOnly(Thread.currentThread().getName());
        // each frame is committed before its report, the next frame only after it (one trap per frame)
        assertThat(inside).containsExactly("2:true:false", "3:true:false", "4:true:false");
        assertThatThrownBy(() -> kept.getFirst().get(ValueLayout.JAVA_BYTE, 0))
                .as("a report's segment is valid only during the call").isInstanceOf(IllegalStateException.class);
        byte[] all = new byte[data.length];
        side.ramRead(gpa, MemorySegment.ofArray(all));
        assertThat(all).isEqualTo(data);
    }

    /** Random guest writes over a random tracked set: exactly one report per tracked frame touched, in order. */
    @ParameterizedTest(name = "seed={0}")
    @ValueSource(longs = {21, 22, 23, 24})
    void trackedWriteReportsMatchAModel(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Set<Long> tracked = new HashSet<>();
        for (long gfn = 0; gfn < 16; gfn++) {
            if (random.nextBoolean()) {
                guest.tracker().orElseThrow().track(gfn);
                tracked.add(gfn);
            }
        }
        for (int op = 0; op < 100; op++) {
            device.clearRecords();
            int length = random.nextInt(1, 3 * PAGE);
            long gpa = random.nextLong(0, 16L * PAGE - length);
            byte[] data = new byte[length];
            random.nextBytes(data);
            side.ramWrite(gpa, MemorySegment.ofArray(data));
            List<String> expected = new ArrayList<>();
            for (long at = gpa; at < gpa + length; at = (at / PAGE + 1) * PAGE) {
                long chunk = Math.min(gpa + length, (at / PAGE + 1) * PAGE) - at;
                if (tracked.contains(at / PAGE)) {
                    expected.add(Long.toHexString(at) + "+" + chunk + "=" + Arrays.hashCode(
                            Arrays.copyOfRange(data, (int) (at - gpa), (int) (at - gpa + chunk))));
                }
            }
            assertThat(device.trackedWrites())
                    .extracting(r -> Long.toHexString(r.gpa()) + "+" + r.bytes().length + "=" + Arrays.hashCode(r.bytes()))
                    .as("seed %s op %s: write of %s at 0x%x", seed, op, length, gpa)
                    .containsExactlyElementsOf(expected);
        }
    }

    @Test
    void ramWriteIntoRemovedRamWritesNothing() {
        guest.removeRam(8L * PAGE, PAGE);
        side.ramWrite(7L * PAGE, MemorySegment.ofArray(new byte[] {1, 1, 1, 1}));
        byte[] data = new byte[2 * PAGE];
        Arrays.fill(data, (byte) 9);
        assertThat(((GvtException) catchThrowable(() -> side.ramWrite(7L * PAGE, MemorySegment.ofArray(data)))).code())
                .isEqualTo(ErrorCode.NOT_MAPPED);
        assertThat(guest.memory().readLong(7L * PAGE)).as("the mapped frame before the hole is untouched").isEqualTo(0x0101_0101L);
    }

    @Test
    void msiFromTheCoreReachesTheGuest() throws Exception {
        assertThat(side.ramSize()).isEqualTo(1L << 20);
        assertThat(side.msiCount()).isZero();
        guest.interrupts().signalMsi();
        assertThat(side.msiCount()).isEqualTo(1);
        assertThat(side.awaitMsi(0, java.time.Duration.ofSeconds(30))).isEqualTo(1);
        guest.close();
        assertThat(((GvtException) catchThrowable(() -> side.ramRead(0, MemorySegment.ofArray(new byte[1])))).code())
                .isEqualTo(ErrorCode.ILLEGAL_STATE);
        assertThat(side.msiCount()).as("still answers after detach").isEqualTo(1);
    }
}
