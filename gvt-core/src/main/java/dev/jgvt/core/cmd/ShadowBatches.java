package dev.jgvt.core.cmd;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The batch buffers a scan shadowed, in the order they were entered. For each: the guest address, whether it is
 * a PPGTT (diagnostic, not relocated) batch, its level, where its copy lives in the scanner's batch pools, and
 * where the MI_BATCH_BUFFER_START that entered it sits (ring shadow or a pool), which the dispatcher patches to
 * the shadow copy's host address. Reused by the next scan.
 */
public final class ShadowBatches {
    /** Buffer ids for {@link #parentBuffer(int)} and {@link #pool(int)}. */
    public static final int RING = 0;
    public static final int FIRST_LEVEL_POOL = 1;
    public static final int SECOND_LEVEL_POOL = 2;

    private final CommandScanner owner;
    private int count;
    private long[] guestAddress = new long[16];
    private boolean[] ppgtt = new boolean[16];
    private long[] offset = new long[16];
    private long[] size = new long[16];
    private int[] pool = new int[16];
    private int[] parentBuffer = new int[16];
    private long[] parentOffset = new long[16];

    ShadowBatches(CommandScanner owner) {
        this.owner = owner;
    }

    void clear() {
        count = 0;
    }

    int add(long gma, boolean isPpgtt, int poolId, long poolOffset, int parent, long parentCmdOffset) {
        if (count == guestAddress.length) {
            int n = count * 2;
            guestAddress = Arrays.copyOf(guestAddress, n);
            ppgtt = Arrays.copyOf(ppgtt, n);
            offset = Arrays.copyOf(offset, n);
            size = Arrays.copyOf(size, n);
            pool = Arrays.copyOf(pool, n);
            parentBuffer = Arrays.copyOf(parentBuffer, n);
            parentOffset = Arrays.copyOf(parentOffset, n);
        }
        guestAddress[count] = gma;
        ppgtt[count] = isPpgtt;
        offset[count] = poolOffset;
        size[count] = 0;
        pool[count] = poolId;
        parentBuffer[count] = parent;
        parentOffset[count] = parentCmdOffset;
        return count++;
    }

    void setSize(int index, long bytes) {
        size[index] = bytes;
    }

    public int count() {
        return count;
    }

    /** Whether a PPGTT batch this scan ended covers PPGTT address {@code gma} (a chain looping back into it). */
    boolean coversPpgtt(long gma) {
        for (int i = 0; i < count; i++) {
            if (ppgtt[i] && gma - guestAddress[i] >= 0 && gma - guestAddress[i] < size[i]) {
                return true;
            }
        }
        return false;
    }

    public long guestAddress(int i) {
        return guestAddress[check(i)];
    }

    public boolean ppgtt(int i) {
        return ppgtt[check(i)];
    }

    /** {@link #FIRST_LEVEL_POOL} or {@link #SECOND_LEVEL_POOL}. */
    public int pool(int i) {
        return pool[check(i)];
    }

    /** Offset of the copy in its pool. */
    public long shadowOffset(int i) {
        return offset[check(i)];
    }

    /** Bytes up to and including the command that ended the batch. */
    public long size(int i) {
        return size[check(i)];
    }

    /** {@link #RING}, {@link #FIRST_LEVEL_POOL} or {@link #SECOND_LEVEL_POOL}. */
    public int parentBuffer(int i) {
        return parentBuffer[check(i)];
    }

    /** Offset of the entering MI_BATCH_BUFFER_START in the parent buffer. */
    public long parentOffset(int i) {
        return parentOffset[check(i)];
    }

    /** The shadow copy of batch {@code i} (a view into the scanner's pool; valid until the next scan). */
    public MemorySegment shadow(int i) {
        return owner.pool(pool[check(i)]).asSlice(offset[i], size[i]);
    }

    private int check(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("batch " + i + " of " + count);
        }
        return i;
    }
}
