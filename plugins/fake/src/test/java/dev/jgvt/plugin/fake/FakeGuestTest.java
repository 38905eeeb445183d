package dev.jgvt.plugin.fake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.PinnedPages;
import dev.jgvt.testing.fixtures.RecordingDeviceModel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Fault injection and bookkeeping of {@link FakeGuest}, beyond what the conformance kit checks. */
final class FakeGuestTest {
    private static final int PAGE = 4096;
    private static final long RAM = 1L << 20;

    private final FakeHypervisor hypervisor = new FakeHypervisorPlugin().open(new HostContext() {});
    private final RecordingDeviceModel device = new RecordingDeviceModel();

    private FakeGuest attach(String name) {
        return FakeGuest.of(hypervisor.attach(new AttachRequest("vgpu-" + name, new AttachRequest.InProcess(name, RAM)), device));
    }

    private static GvtException error(ErrorCode code, org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(GvtException.class);
        assertThat(((GvtException) thrown).code()).as("%s", thrown).isEqualTo(code);
        return (GvtException) thrown;
    }

    @Test
    void failedPinsPinNothingAndStopAfterTheCount() {
        try (FakeGuest guest = attach("fail-pins")) {
            guest.failNextPins(2);
            error(ErrorCode.IO_ERROR, () -> guest.pages().pin(4, 3, GuestPages.Access.READ));
            error(ErrorCode.IO_ERROR, () -> guest.pages().pin(4, 3, GuestPages.Access.READ));
            assertThat(guest.pinnedFrames()).isZero();
            // invalid arguments do not consume an injected failure
            guest.failNextPins(1);
            error(ErrorCode.LIMIT_EXCEEDED, () -> guest.pages().pin(4, 513, GuestPages.Access.READ));
            error(ErrorCode.IO_ERROR, () -> guest.pages().pin(4, 1, GuestPages.Access.READ));
            try (PinnedPages pin = guest.pages().pin(4, 3, GuestPages.Access.READ)) {
                assertThat(guest.pinCount(5)).isEqualTo(1);
                assertThat(pin.count()).isEqualTo(3);
            }
            assertThat(guest.pinnedFrames()).isZero();
            error(ErrorCode.INVALID_ARGUMENT, () -> guest.failNextPins(-1));
        }
    }

    @Test
    void interlockWithAKeptPinFailsLoudlyRevokesThePinAndRemovesTheRange() {
        try (FakeGuest guest = attach("kept")) {
            PinnedPages kept = device.holdPin(guest.pages().pin(0x12, 2, GuestPages.Access.READ));
            MemorySegment view = kept.page(0);
            device.retainPinsOnUnmap(true);
            GvtException busy = error(ErrorCode.BUSY, () -> guest.removeRam(0x10L * PAGE, 4L * PAGE));
            assertThat(busy.getMessage()).contains("0x12", "0x13", "2 frames", "vgpu-kept");
            assertThat(kept.isClosed()).as("the kept pin is revoked").isTrue();
            assertThatThrownBy(() -> view.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            assertThat(guest.pinnedFrames()).isZero();
            assertThat(guest.memory().isBacked(0x12)).isFalse();
            error(ErrorCode.NOT_MAPPED, () -> guest.memory().readLong(0x10L * PAGE));
            assertThat(device.unmaps()).containsExactly(new RecordingDeviceModel.Unmap(0x10L * PAGE, 4L * PAGE, 0, 1));
        }
    }

    @Test
    void duringDmaUnmappedRamIsReadableButNewPinsInTheRangeAreRefused() {
        try (FakeGuest guest = attach("during")) {
            guest.memory().writeLong(0x20L * PAGE, 77);
            AtomicReference<Long> readInside = new AtomicReference<>();
            AtomicReference<Throwable> pinInside = new AtomicReference<>();
            device.onUnmap((iova, length) -> {
                readInside.set(guest.memory().readLong(iova));
                pinInside.set(catchThrowable(() -> guest.pages().pin(0x21, 1, GuestPages.Access.READ)));
            });
            guest.removeRam(0x20L * PAGE, 2L * PAGE);
            assertThat(readInside.get()).isEqualTo(77);
            assertThat(pinInside.get()).isInstanceOf(GvtException.class);
            assertThat(((GvtException) pinInside.get()).code()).isEqualTo(ErrorCode.NOT_MAPPED);
        }
    }

    @Test
    void removedRamDropsTrackingAndCanBeRestoredZeroFilled() {
        try (FakeGuest guest = attach("restore")) {
            guest.memory().writeLong(0x30L * PAGE, -1);
            guest.tracker().orElseThrow().track(0x30);
            guest.tracker().orElseThrow().track(0x32);
            guest.removeRam(0x30L * PAGE, 2L * PAGE);
            assertThat(guest.trackedFrames()).containsExactly(0x32L);
            error(ErrorCode.INVALID_ARGUMENT, () -> guest.tracker().orElseThrow().untrack(0x30));
            guest.restoreRam(0x30L * PAGE, 2L * PAGE);
            assertThat(guest.memory().isBacked(0x30)).isTrue();
            assertThat(guest.memory().readLong(0x30L * PAGE)).as("restored RAM is zero-filled").isZero();
            try (PinnedPages pin = guest.pages().pin(0x30, 2, GuestPages.Access.READ_WRITE)) {
                assertThat(pin.count()).isEqualTo(2);
            }
        }
    }

    @Test
    void removeRamChecksItsRange() {
        try (FakeGuest guest = attach("range")) {
            error(ErrorCode.INVALID_ARGUMENT, () -> guest.removeRam(100, PAGE));
            error(ErrorCode.INVALID_ARGUMENT, () -> guest.removeRam(0, 0));
            error(ErrorCode.INVALID_ARGUMENT, () -> guest.removeRam(0, 100));
            error(ErrorCode.OUT_OF_RANGE, () -> guest.removeRam(RAM, PAGE));
            error(ErrorCode.OUT_OF_RANGE, () -> guest.removeRam(RAM - PAGE, 2L * PAGE));
            assertThat(device.unmaps()).as("no dmaUnmapped for rejected ranges").isEmpty();
        }
    }

    @Test
    void readOnlyRamRefusesWritesAndWritePins() {
        try (FakeGuest guest = attach("ro")) {
            guest.memory().writeLong(0x40L * PAGE, 5);
            guest.setReadOnly(0x40L * PAGE, PAGE, true);
            error(ErrorCode.PERMISSION_DENIED, () -> guest.memory().writeLong(0x40L * PAGE + 8, 1));
            error(ErrorCode.PERMISSION_DENIED, () -> guest.memory().write(0x3FL * PAGE + PAGE - 4, MemorySegment.ofArray(new byte[8])));
            error(ErrorCode.PERMISSION_DENIED, () -> guest.pages().pin(0x3F, 2, GuestPages.Access.WRITE));
            error(ErrorCode.PERMISSION_DENIED, () -> guest.guestSide().ramWrite(0x40L * PAGE, MemorySegment.ofArray(new byte[1])));
            assertThat(guest.memory().readLong(0x3FL * PAGE + PAGE - 4)).as("nothing written by refused writes").isEqualTo(5L << 32);
            try (PinnedPages pin = guest.pages().pin(0x40, 1, GuestPages.Access.READ)) {
                assertThat(pin.page(0).get(ValueLayout.JAVA_LONG_UNALIGNED, 0)).isEqualTo(5);
            }
            guest.setReadOnly(0x40L * PAGE, PAGE, false);
            guest.memory().writeLong(0x40L * PAGE, 6);
            assertThat(guest.memory().readLong(0x40L * PAGE)).isEqualTo(6);
        }
    }

    @Test
    void delayedMsiIsCountedAtOnceAndDeliveredLater() throws Exception {
        try (FakeGuest guest = attach("delay")) {
            guest.setMsiDelay(Duration.ofHours(1));
            guest.interrupts().signalMsi();
            assertThat(guest.msiSignalled()).isEqualTo(1);
            assertThat(guest.guestSide().msiCount()).as("not delivered within the hour").isZero();
            guest.setMsiDelay(Duration.ofMillis(1));
            guest.interrupts().signalMsi();
            assertThat(guest.guestSide().awaitMsi(0, Duration.ofSeconds(30))).isEqualTo(1);
        }
    }

    @Test
    void slowListenerDelaysDeliveryButNeverTheSignaller() throws Exception {
        try (FakeGuest guest = attach("slow")) {
            CountDownLatch release = new CountDownLatch(1);
            List<Long> seen = new CopyOnWriteArrayList<>();
            guest.setMsiListener(count -> {
                seen.add(count);
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            for (int i = 0; i < 1000; i++) {
                guest.interrupts().signalMsi();
            }
            assertThat(guest.msiSignalled()).isEqualTo(1000);
            release.countDown();
            long count = 0;
            while (count < 1000) {
                long next = guest.guestSide().awaitMsi(count, Duration.ofSeconds(30));
                assertThat(next).as("MSIs delivered after the listener resumed").isGreaterThan(count);
                count = next;
            }
            guest.setMsiListener(null);
            assertThat(seen).hasSize(1000).isSorted();
            assertThat(Thread.currentThread().getName()).isNotEqualTo("fake-msi-slow");
        }
    }

    @Test
    void maskedMsiIsDroppedAndCounted() {
        try (FakeGuest guest = attach("mask")) {
            guest.maskMsi(true);
            guest.interrupts().signalMsi();
            guest.interrupts().signalMsi();
            assertThat(guest.interrupts().droppedSignals()).isEqualTo(2);
            assertThat(guest.guestSide().msiCount()).isZero();
            guest.maskMsi(false);
            guest.interrupts().signalMsi();
            assertThat(guest.guestSide().msiCount()).isEqualTo(1);
        }
    }

    @Test
    void awaitMsiTimesOutWithTheSeenCountAndHonoursInterrupts() throws Exception {
        try (FakeGuest guest = attach("await")) {
            assertThat(guest.guestSide().awaitMsi(0, Duration.ofMillis(1))).isZero();
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> guest.guestSide().awaitMsi(0, Duration.ofSeconds(30))).isInstanceOf(InterruptedException.class);
            // a waiter is released by detach
            CountDownLatch waiting = new CountDownLatch(1);
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    waiting.countDown();
                    guest.interrupts0().await(0, Duration.ofHours(1));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            waiting.await();
            guest.close();
            assertThat(waiter.join(Duration.ofSeconds(30))).as("the waiter returned after detach").isTrue();
        }
    }

    @Test
    void detachDiscardsPendingDeliveriesAndFreesTheGuestName() {
        FakeGuest guest = attach("again");
        guest.setMsiDelay(Duration.ofHours(1));
        guest.interrupts().signalMsi();
        guest.memory().writeLong(0, 42);
        guest.close();
        assertThat(hypervisor.guest("again")).isEmpty();
        error(ErrorCode.ILLEGAL_STATE, () -> guest.setMsiDelay(Duration.ZERO));
        error(ErrorCode.ILLEGAL_STATE, guest::guestSide);
        try (FakeGuest again = attach("again")) {
            assertThat(hypervisor.guest("again")).contains(again);
            assertThat(again.memory().readLong(0)).as("a new attach has fresh RAM").isZero();
        }
    }

    @Test
    void vmmSideReachesTheDevice() {
        try (FakeGuest guest = attach("vmm")) {
            assertThat(guest.deviceLayout()).isEqualTo(RecordingDeviceModel.defaultLayout());
            device.write(dev.jgvt.spi.DeviceLayout.BAR0, 0x10, 4, 7);
            guest.resetDevice();
            assertThat(device.resets()).isEqualTo(1);
            assertThat(device.read(dev.jgvt.spi.DeviceLayout.BAR0, 0x10, 4)).as("reset reached the device").isZero();
            assertThat(guest.queryPlane(dev.jgvt.spi.PlaneInfo.PlaneType.PRIMARY)).isEmpty();
            error(ErrorCode.INVALID_ARGUMENT, () -> guest.queryPlane(null));
            guest.close();
            error(ErrorCode.ILLEGAL_STATE, guest::resetDevice);
        }
    }

    @ParameterizedTest(name = "seed={0}")
    @ValueSource(longs = {11, 12, 13})
    void pinCountsFollowAModel(long seed) {
        try (FakeGuest guest = attach("model")) {
            SplittableRandom random = new SplittableRandom(seed);
            Map<Long, Integer> model = new HashMap<>();
            List<PinnedPages> open = new ArrayList<>();
            for (int op = 0; op < 500; op++) {
                if (open.isEmpty() || random.nextInt(3) != 0) {
                    long gfn = random.nextLong(0, 32);
                    int count = random.nextInt(1, 9);
                    open.add(guest.pages().pin(gfn, count, GuestPages.Access.READ));
                    for (long f = gfn; f < gfn + count; f++) {
                        model.merge(f, 1, Integer::sum);
                    }
                } else {
                    PinnedPages pin = open.remove(random.nextInt(open.size()));
                    pin.close();
                    pin.close();
                    for (long f = pin.gfn(); f < pin.gfn() + pin.count(); f++) {
                        model.computeIfPresent(f, (k, v) -> v == 1 ? null : v - 1);
                    }
                }
                for (long f = 0; f < 40; f++) {
                    assertThat(guest.pinCount(f)).as("seed %s op %s frame %s", seed, op, f).isEqualTo(model.getOrDefault(f, 0));
                }
            }
            open.forEach(PinnedPages::close);
            assertThat(guest.pinnedFrames()).isZero();
        }
    }

    @Test
    void hypervisorCloseDetachesAndListsNoGuests() {
        FakeGuest a = attach("a");
        FakeGuest b = attach("b");
        assertThat(hypervisor.guests()).containsExactlyInAnyOrder(a, b);
        hypervisor.close();
        assertThat(hypervisor.guests()).isEmpty();
        assertThat(a.isClosed()).isTrue();
        assertThat(b.isClosed()).isTrue();
    }
}
