package dev.jgvt.plugin.xen.emu;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InProcessGuest;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * The guest side of an emulated domain, as the SPI's {@link InProcessGuest}: everything goes through the
 * emulated hypervisor, so a config read is a CF8 write plus a CFC read that Xen rewrites into a PCI_CONFIG
 * ioreq, an MMIO access is a COPY ioreq to the BAR's guest physical address, and a RAM write to a tracked
 * frame is forwarded to the device model instead of being stored. Accesses run on vCPU 0.
 *
 * <p>Like hvmloader, the guest's firmware assigns the device's memory BARs on first use (sizing each with
 * all ones, then placing 64-bit BARs from 4 GiB up and 32-bit BARs from 0xC0000000 up); it does not touch
 * the command register, so memory decoding stays the guest driver's business.
 */
final class EmulatedGuest implements InProcessGuest {
    private static final int VCPU = 0;
    private static final long MMIO_32_BASE = 0xC000_0000L;
    private static final long MMIO_64_BASE = 0x1_0000_0000L;

    private final EmulatedDomain domain;
    private final int sbdf;
    /** Guest physical base of each BAR as the guest last programmed it; 0 when none. */
    private final long[] barBase = new long[6];
    private boolean firmwareDone;

    EmulatedGuest(EmulatedDomain domain, int sbdf) {
        this.domain = domain;
        this.sbdf = sbdf;
    }

    private synchronized void firmware() {
        if (firmwareDone) {
            return;
        }
        firmwareDone = true;
        long next32 = MMIO_32_BASE;
        long next64 = MMIO_64_BASE;
        for (int bar = 0; bar < 6; bar++) {
            int reg = 0x10 + 4 * bar;
            long original = rawConfig(reg, 4, true, 0);
            if ((original & 1) != 0) {
                continue; // I/O BAR
            }
            boolean is64 = (original & 0x6) == 0x4 && bar < 5;
            rawConfig(reg, 4, false, 0xFFFF_FFFFL);
            long mask = rawConfig(reg, 4, true, 0) & ~0xFL;
            long high = 0xFFFF_FFFFL;
            if (is64) {
                rawConfig(reg + 4, 4, false, 0xFFFF_FFFFL);
                high = rawConfig(reg + 4, 4, true, 0);
            }
            long fullMask = is64 ? (high << 32) | mask : mask | 0xFFFF_FFFF_0000_0000L;
            if (mask == 0 && (!is64 || high == 0)) {
                rawConfig(reg, 4, false, original);
                if (is64) {
                    bar++;
                }
                continue;
            }
            long size = -fullMask;
            long base;
            if (is64) {
                base = align(next64, size);
                next64 = base + size;
            } else {
                base = align(next32, size);
                next32 = base + size;
            }
            rawConfig(reg, 4, false, (base & 0xFFFF_FFFFL) | (original & 0xF));
            if (is64) {
                rawConfig(reg + 4, 4, false, base >>> 32);
            }
            barBase[bar] = base;
            if (is64) {
                bar++;
            }
        }
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    private long rawConfig(int offset, int size, boolean read, long value) {
        if (offset < 256) {
            int cf8 = 0x8000_0000 | ((sbdf & 0xFFFF) << 8) | (offset & 0xFC);
            domain.pio(VCPU, 0xCF8, 4, false, cf8 & 0xFFFF_FFFFL);
            return domain.pio(VCPU, 0xCFC + (offset & 3), size, read, value);
        }
        return domain.mmcfg(VCPU, sbdf, offset, size, read, value);
    }

    private static void checkConfig(int offset, int size) {
        if (size != 1 && size != 2 && size != 4) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "config access size " + size + " (1, 2 or 4)");
        }
        if (offset < 0 || offset + size > 4096) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "config access at 0x" + Integer.toHexString(offset) + " size " + size);
        }
    }

    @Override
    public synchronized long configRead(int offset, int size) {
        checkConfig(offset, size);
        firmware();
        return rawConfig(offset, size, true, 0);
    }

    @Override
    public synchronized void configWrite(int offset, int size, long value) {
        checkConfig(offset, size);
        firmware();
        rawConfig(offset, size, false, value);
        if (offset < 0x28 && offset + size > 0x10) {
            refreshBars();
        }
    }

    private void refreshBars() {
        for (int bar = 0; bar < 6; bar++) {
            long low = rawConfig(0x10 + 4 * bar, 4, true, 0);
            if ((low & 1) != 0) {
                barBase[bar] = 0;
                continue;
            }
            boolean is64 = (low & 0x6) == 0x4 && bar < 5;
            long base = low & ~0xFL;
            if (is64) {
                base |= rawConfig(0x14 + 4 * bar, 4, true, 0) << 32;
                barBase[bar] = base;
                barBase[++bar] = 0;
            } else {
                barBase[bar] = base;
            }
        }
    }

    private long gpa(int region, long offset, int size) {
        if (region < 0 || region > 5) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "region " + region + " is not a BAR");
        }
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "MMIO access size " + size + " (1, 2, 4 or 8)");
        }
        if (offset < 0) {
            throw new GvtException(ErrorCode.OUT_OF_RANGE, "negative MMIO offset " + offset);
        }
        firmware();
        return barBase[region] == 0 ? -1 : barBase[region] + offset;
    }

    @Override
    public synchronized long mmioRead(int region, long offset, int size) {
        long gpa = gpa(region, offset, size);
        if (gpa < 0) {
            return size == 8 ? -1L : (1L << (size * 8)) - 1;
        }
        return domain.mmio(VCPU, gpa, size, true, 0);
    }

    @Override
    public synchronized void mmioWrite(int region, long offset, int size, long value) {
        long gpa = gpa(region, offset, size);
        if (gpa >= 0) {
            domain.mmio(VCPU, gpa, size, false, value);
        }
    }

    @Override
    public long ramSize() {
        return domain.ramBytes();
    }

    @Override
    public void ramRead(long gpa, MemorySegment dst) {
        domain.ramRead(gpa, dst);
    }

    @Override
    public synchronized void ramWrite(long gpa, MemorySegment src) {
        domain.ramWrite(VCPU, gpa, src);
    }

    @Override
    public long msiCount() {
        return domain.msiCount();
    }

    @Override
    public long awaitMsi(long seen, Duration timeout) throws InterruptedException {
        return domain.awaitMsi(seen, timeout);
    }

    /** The guest physical base of a BAR as programmed (0 if none); for tests and diagnostics. */
    synchronized long barBase(int bar) {
        firmware();
        return barBase[bar];
    }
}
