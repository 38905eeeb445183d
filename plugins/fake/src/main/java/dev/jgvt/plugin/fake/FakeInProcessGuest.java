package dev.jgvt.plugin.fake;

import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InProcessGuest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The guest side of a fake guest: what its CPU does. Config and BAR accesses are trapped and forwarded to
 * the {@link DeviceModel} on the calling thread; RAM writes go through page tracking (each frame's bytes
 * are committed, then reported if the frame is tracked).
 *
 * <p>Like a VMM, which routes BAR accesses to the device only while the guest has memory decoding enabled, this
 * keeps a copy of the PCI command register instead of asking the device for it at every BAR access: the copy is
 * read from the device on first use and again after every config write of the guest and every device reset (the
 * only ways the register changes), so a BAR access costs one trap, not two.
 */
final class FakeInProcessGuest implements InProcessGuest {
    /** Offset of the PCI command register in config space. */
    static final int PCI_COMMAND = 4;
    /** The command register's memory-space enable bit. */
    static final int PCI_COMMAND_MEMORY = 1 << 1;
    private static final long VALID = 1L << 16;

    private final FakeGuest guest;
    private final DeviceModel device;
    /** Bumped after every config write and device reset: a copy of the command register read before is stale. */
    private final AtomicLong configWrites = new AtomicLong();
    /**
     * The command register's copy: the {@link #configWrites} count it was read at (bits 63:17), a valid bit (16) and
     * the register (15:0). A copy whose count is not the current one is read again, so a config write racing with
     * the read that made the copy never leaves a stale copy behind.
     */
    private volatile long command;

    FakeInProcessGuest(FakeGuest guest, DeviceModel device) {
        this.guest = guest;
        this.device = device;
    }

    @Override
    public long configRead(int offset, int size) {
        guest.checkOpen();
        checkConfigSize(size);
        return device.read(DeviceLayout.CONFIG, offset, size);
    }

    @Override
    public void configWrite(int offset, int size, long value) {
        guest.checkOpen();
        checkConfigSize(size);
        try {
            device.write(DeviceLayout.CONFIG, offset, size, value);
        } finally {
            configWrites.incrementAndGet(); // any config write may change it (the register itself, a power-state reset)
        }
    }

    /** The device was reset (by the VMM): its command register is back to its reset value. */
    void deviceReset() {
        configWrites.incrementAndGet();
    }

    @Override
    public long mmioRead(int region, long offset, int size) {
        guest.checkOpen();
        checkMmio(region, size);
        if (!memoryEnabled()) {
            return size == 8 ? -1L : (1L << (8 * size)) - 1;
        }
        return device.read(region, offset, size);
    }

    @Override
    public void mmioWrite(int region, long offset, int size, long value) {
        guest.checkOpen();
        checkMmio(region, size);
        if (memoryEnabled()) {
            device.write(region, offset, size, value);
        }
    }

    @Override
    public long ramSize() {
        return guest.ram().size();
    }

    @Override
    public void ramRead(long gpa, MemorySegment dst) {
        guest.checkOpen();
        if (dst == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "dst is null");
        }
        FakeGuestMemory.copy(guest, gpa, dst, false);
    }

    /**
     * Writes frame by frame: each frame's part is committed to RAM, then, if the frame is tracked, reported
     * to the device with a copy of the bytes that is valid only during the call (contract 1).
     */
    @Override
    public void ramWrite(long gpa, MemorySegment src) {
        guest.checkOpen();
        if (src == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "src is null");
        }
        long length = src.byteSize();
        guest.ram().check(gpa, length, true);
        long done = 0;
        while (done < length) {
            long at = gpa + done;
            long chunk = Math.min(length - done, GuestRam.PAGE - (at & (GuestRam.PAGE - 1)));
            MemorySegment part = src.asSlice(done, chunk);
            FakeGuestMemory.copy(guest, at, part, true);
            if (guest.isTracked(at / GuestRam.PAGE)) {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment report = arena.allocate(chunk);
                    report.copyFrom(part);
                    device.trackedWrite(at, report.asReadOnly());
                }
            }
            done += chunk;
        }
    }

    @Override
    public long msiCount() {
        return guest.interrupts0().delivered();
    }

    @Override
    public long awaitMsi(long seen, Duration timeout) throws InterruptedException {
        if (timeout == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "timeout is null");
        }
        return guest.interrupts0().await(seen, timeout);
    }

    private boolean memoryEnabled() {
        long writes = configWrites.get();
        long c = command;
        if ((c & VALID) == 0 || c >>> 17 != writes) {
            c = writes << 17 | VALID | (device.read(DeviceLayout.CONFIG, PCI_COMMAND, 2) & 0xFFFF);
            command = c;
        }
        return (c & PCI_COMMAND_MEMORY) != 0;
    }

    private static void checkConfigSize(int size) {
        if (size != 1 && size != 2 && size != 4) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "config access size " + size + " is not 1, 2 or 4");
        }
    }

    private static void checkMmio(int region, int size) {
        if (region == DeviceLayout.CONFIG) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "region " + region + " is config space: use configRead/configWrite");
        }
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "MMIO access size " + size + " is not 1, 2, 4 or 8");
        }
    }
}
