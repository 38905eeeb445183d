package dev.jgvt.sim;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The GPU's device (DMA) address space in 4 KiB frames: frame {@code n} covers device addresses
 * {@code [n << 12, (n + 1) << 12)} and is either unmapped or backed by one 4 KiB segment (a slice of a
 * pinned guest page run or of host-owned memory). Frame 0 is never mapped, so device address 0 always
 * faults.
 *
 * <p>Mutations are serialised by the owner ({@link SimGpu}); lookups read the frame table without a lock
 * (engines see mappings published before their submission).
 */
final class DeviceAddressSpace {
    /** Who a mapped frame belongs to. */
    enum Owner {
        NONE,
        DMA,
        HOST
    }

    private static final int FRAMES_PER_HUGE = HugeConst.FRAMES_PER_HUGE;

    private final long maxFrames;
    private volatile MemorySegment[] frames = new MemorySegment[1024];
    private byte[] owner = new byte[1024];
    /** Frames in the mapping that starts at this frame (0 when the frame does not start a mapping). */
    private int[] runLength = new int[1024];
    private long nextFrame = 1;
    private long[] freeSingles = new long[256];
    private int freeSingleCount;
    private long[] freeHuge = new long[16];
    private int freeHugeCount;
    private long mappedFrames;

    DeviceAddressSpace(long maxFrames) {
        if (maxFrames < 2 || maxFrames > (1L << 31) - 1) {
            throw new IllegalArgumentException("device frames must be in [2, 2^31): " + maxFrames);
        }
        this.maxFrames = maxFrames;
    }

    /** Maps {@code pages} (4 KiB or 2 MiB) and returns its device address. */
    long map(MemorySegment pages, Owner who) {
        long size = pages.byteSize();
        if (size == HugeConst.PAGE) {
            long frame = takeSingle();
            install(frame, 1, pages, who);
            return frame << 12;
        }
        if (size == HugeConst.HUGE) {
            long frame = takeHuge();
            install(frame, FRAMES_PER_HUGE, pages, who);
            return frame << 12;
        }
        if (who == Owner.HOST && size > 0 && size % HugeConst.PAGE == 0) {
            int count = Math.toIntExact(size / HugeConst.PAGE);
            long frame = takeRun(count);
            install(frame, count, pages, who);
            return frame << 12;
        }
        throw new IllegalArgumentException("a DMA mapping is 4096 or 2097152 bytes, got " + size);
    }

    /** Unmaps the mapping starting at {@code deviceAddress}, which must belong to {@code who}. */
    void unmap(long deviceAddress, Owner who) {
        long frame = deviceAddress >>> 12;
        if ((deviceAddress & 0xFFF) != 0 || frame <= 0 || frame >= nextFrame || runLength[(int) frame] == 0
                || owner[(int) frame] != who.ordinal()) {
            throw new IllegalArgumentException("not the start of a live " + who + " mapping: device address 0x"
                    + Long.toHexString(deviceAddress));
        }
        int count = runLength[(int) frame];
        MemorySegment[] table = frames;
        for (int i = 0; i < count; i++) {
            table[(int) frame + i] = null;
            owner[(int) frame + i] = 0;
        }
        runLength[(int) frame] = 0;
        mappedFrames -= count;
        if (count == FRAMES_PER_HUGE && (frame % FRAMES_PER_HUGE) == 0) {
            freeHuge = push(freeHuge, freeHugeCount++, frame);
        } else {
            for (int i = 0; i < count; i++) {
                freeSingles = push(freeSingles, freeSingleCount++, frame + i);
            }
        }
    }

    /** The 4 KiB segment behind device frame {@code frame}, or null when unmapped. */
    MemorySegment frame(long frame) {
        MemorySegment[] table = frames;
        return frame > 0 && frame < table.length ? table[(int) frame] : null;
    }

    /** Who owns the frame at {@code deviceAddress}. */
    Owner owner(long deviceAddress) {
        long frame = deviceAddress >>> 12;
        return frame > 0 && frame < nextFrame && frame < owner.length ? Owner.values()[owner[(int) frame]] : Owner.NONE;
    }

    long mappedFrames() {
        return mappedFrames;
    }

    private void install(long frame, int count, MemorySegment pages, Owner who) {
        ensureCapacity(frame + count);
        MemorySegment[] table = frames;
        for (int i = 0; i < count; i++) {
            table[(int) frame + i] = pages.asSlice((long) i * HugeConst.PAGE, HugeConst.PAGE);
            owner[(int) frame + i] = (byte) who.ordinal();
        }
        runLength[(int) frame] = count;
        mappedFrames += count;
    }

    private long takeSingle() {
        if (freeSingleCount > 0) {
            return freeSingles[--freeSingleCount];
        }
        return bump(1);
    }

    private long takeHuge() {
        if (freeHugeCount > 0) {
            return freeHuge[--freeHugeCount];
        }
        long aligned = (nextFrame + FRAMES_PER_HUGE - 1) & -FRAMES_PER_HUGE;
        while (nextFrame < aligned && nextFrame < maxFrames) {
            freeSingles = push(freeSingles, freeSingleCount++, nextFrame++);
        }
        return bump(FRAMES_PER_HUGE);
    }

    private long takeRun(int count) {
        return bump(count);
    }

    private long bump(int count) {
        if (nextFrame + count > maxFrames) {
            throw new GvtException(ErrorCode.NO_SPACE, "device address space exhausted: " + maxFrames + " frames, "
                    + mappedFrames + " mapped, " + count + " more requested");
        }
        long frame = nextFrame;
        nextFrame += count;
        return frame;
    }

    private void ensureCapacity(long end) {
        MemorySegment[] table = frames;
        if (end <= table.length) {
            return;
        }
        int size = table.length;
        while (size < end) {
            size = (int) Math.min((long) size * 2, maxFrames);
        }
        owner = Arrays.copyOf(owner, size);
        runLength = Arrays.copyOf(runLength, size);
        frames = Arrays.copyOf(table, size);
    }

    private static long[] push(long[] stack, int index, long value) {
        long[] s = index < stack.length ? stack : Arrays.copyOf(stack, stack.length * 2);
        s[index] = value;
        return s;
    }
}
