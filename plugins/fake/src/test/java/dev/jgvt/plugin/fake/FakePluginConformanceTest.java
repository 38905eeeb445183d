package dev.jgvt.plugin.fake;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.HypervisorPlugin;
import dev.jgvt.spi.InProcessGuest;
import dev.jgvt.testing.conformance.BasePluginConformanceTest;
import dev.jgvt.testing.conformance.Behavior;
import dev.jgvt.testing.conformance.ConformanceHarness;
import dev.jgvt.testing.conformance.TestGuest;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** The fake plugin passes the whole conformance kit: it supports every behavior. */
final class FakePluginConformanceTest extends BasePluginConformanceTest {
    @Override
    protected ConformanceHarness createHarness() {
        return new FakeHarness();
    }

    /** The fake's harness: guests are in-process, their guest and VMM sides are the fake's own API. */
    static final class FakeHarness implements ConformanceHarness {
        private final FakeHypervisorPlugin plugin = new FakeHypervisorPlugin();

        @Override
        public HypervisorPlugin plugin() {
            return plugin;
        }

        @Override
        public TestGuest createGuest(String guestName, long ramBytes) {
            return new FakeTestGuest(guestName, ramBytes);
        }

        @Override
        public boolean supports(Behavior behavior) {
            return switch (behavior) {
                case PAGE_TRACKING, GUEST_WRITES, REMOVE_RAM, REVOKED_PIN_SEGMENTS, CONTIGUOUS_2M_PINS, STALL_INTERRUPTS, READ_ONLY_RAM ->
                        true;
            };
        }
    }

    record FakeTestGuest(String name, long ramBytes) implements TestGuest {
        @Override
        public AttachRequest.Target target() {
            return new AttachRequest.InProcess(name, ramBytes);
        }

        @Override
        public void guestWrite(GuestBinding binding, long gpa, MemorySegment bytes) {
            binding.inProcessGuest().orElseThrow().ramWrite(gpa, bytes);
        }

        @Override
        public void removeRam(GuestBinding binding, long gpa, long length) {
            FakeGuest.of(binding).removeRam(gpa, length);
        }

        @Override
        public void protectRam(GuestBinding binding, long gpa, long length) {
            FakeGuest.of(binding).setReadOnly(gpa, length, true);
        }

        @Override
        public AutoCloseable stallInterrupts(GuestBinding binding) {
            CountDownLatch release = new CountDownLatch(1);
            FakeGuest.of(binding).setMsiListener(count -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            return release::countDown;
        }

        @Override
        public long awaitInterrupts(GuestBinding binding, long atLeast, Duration timeout) throws InterruptedException {
            InProcessGuest guest = binding.inProcessGuest().orElseThrow();
            long deadline = System.nanoTime() + timeout.toNanos();
            long count = guest.msiCount();
            while (count < atLeast && System.nanoTime() < deadline) {
                count = guest.awaitMsi(count, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            }
            return count;
        }
    }
}
