package dev.jgvt.cli;

import static java.util.Objects.requireNonNull;

import dev.jgvt.guest.GuestPlatform;
import dev.jgvt.spi.InProcessGuest;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * The guest driver simulator's platform over the guest side of an in-process plugin: every access goes
 * through the plugin's trap path to the vGPU, as a guest's would. guest-sim and the SPI know nothing of
 * each other; this is the one place they meet. Tests extend it to interfere with a guest's accesses.
 */
class InProcessPlatform implements GuestPlatform {
    private final InProcessGuest guest;

    InProcessPlatform(InProcessGuest guest) {
        this.guest = requireNonNull(guest, "guest is null");
    }

    @Override
    public long configRead(int offset, int size) {
        return guest.configRead(offset, size);
    }

    @Override
    public void configWrite(int offset, int size, long value) {
        guest.configWrite(offset, size, value);
    }

    @Override
    public long mmioRead(int bar, long offset, int size) {
        return guest.mmioRead(bar, offset, size);
    }

    @Override
    public void mmioWrite(int bar, long offset, int size, long value) {
        guest.mmioWrite(bar, offset, size, value);
    }

    @Override
    public long ramSize() {
        return guest.ramSize();
    }

    @Override
    public void ramRead(long gpa, MemorySegment dst) {
        guest.ramRead(gpa, dst);
    }

    @Override
    public void ramWrite(long gpa, MemorySegment src) {
        guest.ramWrite(gpa, src);
    }

    @Override
    public long msiCount() {
        return guest.msiCount();
    }

    @Override
    public long awaitMsi(long seen, Duration timeout) throws InterruptedException {
        return guest.awaitMsi(seen, timeout);
    }
}
