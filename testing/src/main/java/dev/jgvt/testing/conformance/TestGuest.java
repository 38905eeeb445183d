package dev.jgvt.testing.conformance;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.GuestBinding;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * One guest created by a {@link ConformanceHarness}: its attach target and the guest- and VMM-side
 * actions the conformance kit needs but the SPI does not offer (the SPI is the core's view; these are the
 * other side's). Each action is optional: the default throws {@link UnsupportedOperationException}, and
 * the harness declares the matching {@link Behavior} as unsupported.
 *
 * <p>Guest RAM spans guest physical addresses {@code [ramBase(), ramBase() + ramBytes)} with no holes.
 */
public interface TestGuest extends AutoCloseable {
    /** The target to attach this guest with. */
    AttachRequest.Target target();

    /** The first guest physical address of this guest's RAM; page aligned. Default 0. */
    default long ramBase() {
        return 0;
    }

    /**
     * The guest CPU writes {@code bytes} at {@code gpa} through the plugin's trap path, as a guest driver
     * does: writes to tracked frames must be committed and reported through
     * {@code DeviceModel.trackedWrite}. Returns when the write (and its reports) are complete.
     * ({@link Behavior#GUEST_WRITES})
     *
     * @param binding the binding this guest is attached through
     */
    default void guestWrite(GuestBinding binding, long gpa, MemorySegment bytes) {
        throw new UnsupportedOperationException("guest writes are not supported by this harness");
    }

    /**
     * The VMM removes guest RAM {@code [gpa, gpa + length)} (unmaps DMA, removes a memslot, shrinks the
     * domain). The plugin must call {@code DeviceModel.dmaUnmapped} for the range before it is gone.
     * Returns normally when the plugin completed the removal; throws the plugin's
     * {@link dev.jgvt.spi.GvtException} (expected: {@code BUSY}) when the plugin found pins left after the
     * interlock. Must never hang. ({@link Behavior#REMOVE_RAM})
     */
    default void removeRam(GuestBinding binding, long gpa, long length) {
        throw new UnsupportedOperationException("removing guest RAM is not supported by this harness");
    }

    /**
     * The VMM maps guest RAM {@code [gpa, gpa + length)} (page aligned) read-only for the device: the core's
     * writes and write pins there must fail with PERMISSION_DENIED; reads and read pins still work.
     * ({@link Behavior#READ_ONLY_RAM})
     */
    default void protectRam(GuestBinding binding, long gpa, long length) {
        throw new UnsupportedOperationException("read-only guest RAM is not supported by this harness");
    }

    /**
     * Stalls whatever consumes this guest's interrupts (a listener that blocks, a VMM thread that stops
     * reading its eventfd) until the returned handle is closed. ({@link Behavior#STALL_INTERRUPTS})
     */
    default AutoCloseable stallInterrupts(GuestBinding binding) {
        throw new UnsupportedOperationException("stalling interrupts is not supported by this harness");
    }

    /**
     * Waits until the guest has observed at least {@code atLeast} interrupts (signals may coalesce, so the
     * kit asks for 1 after many signals) or the timeout passes. ({@link Behavior#STALL_INTERRUPTS})
     *
     * @return the number of interrupts observed so far
     */
    default long awaitInterrupts(GuestBinding binding, long atLeast, Duration timeout) throws InterruptedException {
        throw new UnsupportedOperationException("observing interrupts is not supported by this harness");
    }

    /** Destroys the guest (after the kit detached it). Default: nothing. Must not throw. */
    @Override
    default void close() {}
}
