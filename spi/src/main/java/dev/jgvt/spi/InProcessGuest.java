package dev.jgvt.spi;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * The guest side of a guest that lives in the engine's process (the fake plugin, emulated backends):
 * what a guest driver does to its device and its RAM. A guest driver simulator drives a vGPU only through
 * this, exactly as a real guest would through its hypervisor: accesses go through the plugin's trap path
 * to the {@link DeviceModel}; RAM writes to tracked frames are committed and then reported.
 *
 * <p>Obtained from {@link GuestBinding#inProcessGuest()}. Threading: one guest thread at a time for
 * accesses; {@link #msiCount()} and {@link #awaitMsi} are safe from any thread.
 */
public interface InProcessGuest {
    /** A config-space read of 1, 2 or 4 bytes, as the guest's PCI accessors do. */
    long configRead(int offset, int size);

    /** A config-space write of 1, 2 or 4 bytes. */
    void configWrite(int offset, int size, long value);

    /**
     * A guest access of 1, 2, 4 or 8 bytes to region {@code region} ({@link DeviceLayout#BAR0},
     * {@link DeviceLayout#BAR2}) at {@code offset}. Honours the memory-enable bit of the command register:
     * with it clear, reads return all ones and writes are dropped, as on a real bus.
     */
    long mmioRead(int region, long offset, int size);

    /** A guest MMIO write; see {@link #mmioRead}. */
    void mmioWrite(int region, long offset, int size, long value);

    /** Guest RAM size in bytes; RAM spans guest physical addresses {@code [0, ramSize())}. */
    long ramSize();

    /** A CPU read of guest RAM. */
    void ramRead(long gpa, MemorySegment dst);

    /**
     * A CPU write of guest RAM. Writes into tracked frames are committed first and then reported to the
     * device model, one report per frame touched.
     */
    void ramWrite(long gpa, MemorySegment src);

    /** How many MSIs the guest has received since attach. */
    long msiCount();

    /**
     * Waits until more than {@code seen} MSIs have been received or {@code timeout} passes.
     *
     * @return the MSI count at return (equal to {@code seen} on timeout)
     */
    long awaitMsi(long seen, Duration timeout) throws InterruptedException;
}
