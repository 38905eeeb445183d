package dev.jgvt.plugin.fake;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;

/** {@link GuestMemory} of a fake guest: direct copies from and to its RAM segment. */
final class FakeGuestMemory implements GuestMemory {
    private final FakeGuest guest;

    FakeGuestMemory(FakeGuest guest) {
        this.guest = guest;
    }

    @Override
    public void read(long gpa, MemorySegment dst) {
        guest.checkOpen();
        if (dst == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "dst is null");
        }
        copy(guest, gpa, dst, false);
    }

    @Override
    public void write(long gpa, MemorySegment src) {
        guest.checkOpen();
        if (src == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "src is null");
        }
        copy(guest, gpa, src, true);
    }

    @Override
    public boolean isBacked(long gfn) {
        return !guest.isClosed() && guest.ram().isBacked(gfn);
    }

    /**
     * Copies between guest RAM at {@code gpa} and {@code buffer}, checking the range first; translates the
     * FFM exceptions of a detach racing with the copy, or of a bad caller segment, into typed errors.
     */
    static void copy(FakeGuest guest, long gpa, MemorySegment buffer, boolean toGuest) {
        long length = buffer.byteSize();
        GuestRam ram = guest.ram();
        ram.check(gpa, length, toGuest);
        if (length == 0) {
            return;
        }
        try {
            if (toGuest) {
                MemorySegment.copy(buffer, 0, ram.segment(), gpa, length);
            } else {
                MemorySegment.copy(ram.segment(), gpa, buffer, 0, length);
            }
        } catch (IllegalStateException e) {
            guest.checkOpen();
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "the caller's segment is not accessible: " + e.getMessage(), e);
        } catch (IllegalArgumentException | UnsupportedOperationException | WrongThreadException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "the caller's segment cannot be used for this copy: " + e.getMessage(), e);
        }
    }
}
