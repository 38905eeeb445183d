package dev.jgvt.testing.conformance;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.HypervisorPlugin;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/** The harness of {@link ReferencePlugin}: it supports every behavior. */
final class ReferenceHarness implements ConformanceHarness {
    private final ReferencePlugin plugin;

    ReferenceHarness(Set<ReferencePlugin.Defect> defects) {
        this.plugin = new ReferencePlugin(defects);
    }

    @Override
    public HypervisorPlugin plugin() {
        return plugin;
    }

    @Override
    public TestGuest createGuest(String guestName, long ramBytes) {
        return new Guest(guestName, ramBytes);
    }

    @Override
    public boolean supports(Behavior behavior) {
        return switch (behavior) {
            case PAGE_TRACKING, GUEST_WRITES, REMOVE_RAM, REVOKED_PIN_SEGMENTS, CONTIGUOUS_2M_PINS, STALL_INTERRUPTS, READ_ONLY_RAM ->
                        true;
        };
    }

    private static ReferencePlugin.RefBinding ref(GuestBinding binding) {
        return (ReferencePlugin.RefBinding) binding;
    }

    record Guest(String name, long ramBytes) implements TestGuest {
        @Override
        public AttachRequest.Target target() {
            return new AttachRequest.InProcess(name, ramBytes);
        }

        @Override
        public void guestWrite(GuestBinding binding, long gpa, MemorySegment bytes) {
            ref(binding).guestWrite(gpa, bytes);
        }

        @Override
        public void removeRam(GuestBinding binding, long gpa, long length) {
            ref(binding).removeRam(gpa, length);
        }

        @Override
        public void protectRam(GuestBinding binding, long gpa, long length) {
            ref(binding).protect(gpa, length);
        }

        @Override
        public AutoCloseable stallInterrupts(GuestBinding binding) {
            CountDownLatch release = new CountDownLatch(1);
            ref(binding).setListener(Optional.of(count -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            return release::countDown;
        }

        @Override
        public long awaitInterrupts(GuestBinding binding, long atLeast, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (ref(binding).delivered() < atLeast && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            return ref(binding).delivered();
        }
    }
}
