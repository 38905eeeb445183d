package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * A ring buffer in guest RAM, mapped in the GGTT. The writer appends commands at the tail; a command block
 * that would run past the end is not split: the rest of the ring is filled with MI_NOOPs and the block starts
 * again at offset 0. {@link #tail} is always qword aligned (a block of odd length gets a trailing MI_NOOP).
 * The consumer's head is told to the writer after each completion; the writer never overwrites unconsumed
 * commands (one qword always stays free, so head == tail means empty).
 */
final class RingBuffer {
    private final GuestPlatform platform;
    private final long gma;
    private final long gpa;
    private final int bytes;
    private int head;
    private int tail;

    /** A ring of {@code bytes} at GGTT {@code gma} / RAM {@code gpa}, empty at offset {@code start}. */
    RingBuffer(GuestPlatform platform, long gma, long gpa, int bytes, int start) {
        this.platform = requireNonNull(platform, "platform is null");
        if (bytes < 4096 || bytes % 4096 != 0 || gma % 4096 != 0) {
            throw new IllegalArgumentException(String.format("ring at 0x%x of %d bytes is not page aligned", gma, bytes));
        }
        if (start < 0 || start >= bytes || start % 8 != 0) {
            throw new IllegalArgumentException("ring start offset " + start + " is not a qword inside the ring");
        }
        this.gma = gma;
        this.gpa = gpa;
        this.bytes = bytes;
        this.head = start;
        this.tail = start;
    }

    long gma() {
        return gma;
    }

    int bytes() {
        return bytes;
    }

    int head() {
        return head;
    }

    int tail() {
        return tail;
    }

    /** Bytes that can still be written without reaching the head. */
    int space() {
        return Math.floorMod(head - tail - 8, bytes);
    }

    /** Appends one command block (qword padded), wrapping before it if it would not fit at the end. */
    void emit(int... block) {
        int length = (block.length + 1) & ~1;
        int blockBytes = length * 4;
        int padding = tail + blockBytes > bytes ? bytes - tail : 0;
        if (blockBytes + padding > space()) {
            throw new GuestException(String.format("ring at 0x%x full: %d bytes wanted, %d free (head 0x%x, tail 0x%x)",
                    gma, blockBytes + padding, space(), head, tail));
        }
        if (padding > 0) {
            Ram.writeInts(platform, gpa + tail, new int[padding / 4]);
            tail = 0;
        }
        int[] padded = Arrays.copyOf(block, length);
        Ram.writeInts(platform, gpa + tail, padded);
        tail = (tail + blockBytes) % bytes;
    }

    /** The consumer reached {@code newHead}: the space before it may be written again. */
    void consumed(int newHead) {
        if (newHead < 0 || newHead >= bytes || newHead % 4 != 0) {
            throw new IllegalArgumentException("head " + newHead + " is not inside the ring");
        }
        head = newHead;
    }
}
