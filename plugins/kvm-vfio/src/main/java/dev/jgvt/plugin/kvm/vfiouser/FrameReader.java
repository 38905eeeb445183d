package dev.jgvt.plugin.kvm.vfiouser;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.os.MessageIo;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * Reads vfio-user frames from a stream socket with one {@code recvmsg} per read into a reusable native
 * buffer: a read takes whatever the socket holds (several frames, or part of one), complete frames are
 * handed out in order, a partial frame waits for the next read. The header is checked before a frame is
 * handed out (size at least 16 and within the limit, known flag bits, type command or reply).
 *
 * <p>fds: the kernel ends a read after the bytes that carried fds, and a sender puts a message's fds on its
 * first bytes, so the fds of a read belong to the last frame that starts in it (or, if none starts there,
 * to the frame the read continued).
 *
 * <p>Threading: one reader at a time (the caller's lock).
 */
public final class FrameReader implements AutoCloseable {
    private static final int INITIAL = 64 * 1024;
    private static final int[] NO_FDS = new int[0];
    private static final int KNOWN_FLAGS = Header.TYPE_MASK | Header.FLAG_NO_REPLY | Header.FLAG_ERROR;

    private record PendingFds(long frameStart, int[] fds) {}

    private final MessageIo io;
    private final long maxMessageSize;
    private Arena arena = Arena.ofShared();
    private MemorySegment buf;
    private int start;
    private int end;
    /** Stream offset of {@link #buf}[0]. */
    private long base;
    private final ArrayDeque<PendingFds> fds = new ArrayDeque<>();
    /** Whether {@link #fds} holds any (checked per frame instead of the deque: one cache line fewer). */
    private boolean fdsPending;
    private int frameSize = -1;

    public FrameReader(MessageIo io, long maxMessageSize) {
        this.io = requireNonNull(io, "io is null");
        this.maxMessageSize = maxMessageSize;
        this.buf = arena.allocate(INITIAL, 8);
    }

    /**
     * Makes the next frame current, reading the socket (blocking) only if no whole frame is buffered. False
     * when the peer closed between frames.
     *
     * @throws GvtException PROTOCOL_ERROR for a bad header, a size over the limit, or a close inside a frame
     */
    public boolean next() {
        return next(0);
    }

    /**
     * {@link #next()}, but a read of the socket first polls it for at most {@code pollNanos} before it blocks
     * (see {@link MessageIo#receive(MemorySegment, long, long, long)}).
     */
    public boolean next(long pollNanos) {
        if (frameSize >= 0) {
            throw new IllegalStateException("the current frame was not consumed");
        }
        while (true) {
            int available = end - start;
            if (available >= Header.SIZE) {
                long size = checkHeader(start);
                if (available >= size) {
                    frameSize = (int) size;
                    return true;
                }
                ensureRoom(size);
            } else {
                ensureRoom(Header.SIZE);
            }
            long n = io.receive(buf, end, buf.byteSize() - end, pollNanos);
            if (n == 0) {
                if (end == start) {
                    return false;
                }
                throw new GvtException(ErrorCode.PROTOCOL_ERROR, "truncated message: the peer closed after "
                        + (end - start) + " bytes of a message");
            }
            int readStart = end;
            end += (int) n;
            if (io.fdCount() > 0) {
                int[] got = new int[io.fdCount()];
                for (int i = 0; i < got.length; i++) {
                    got[i] = io.fd(i);
                }
                fds.add(new PendingFds(base + lastFrameStartBefore(end, readStart), got));
                fdsPending = true;
            }
        }
    }

    /**
     * True when {@link #next()} would not read the socket: a whole frame (or a header it refuses) is already
     * buffered. A thread about to wait for the socket to become readable must ask this first: the frame it
     * waits for may have come in with the previous read.
     */
    public boolean hasBufferedFrame() {
        int available = end - start;
        if (available < Header.SIZE) {
            return false;
        }
        long size = Integer.toUnsignedLong(buf.get(LE_INT, start + 4));
        int flags = buf.get(LE_INT, start + 8);
        int type = flags & Header.TYPE_MASK;
        boolean acceptable = size >= Header.SIZE && size <= maxMessageSize && (flags & ~KNOWN_FLAGS) == 0
                && (type == Header.TYPE_COMMAND || type == Header.TYPE_REPLY);
        return !acceptable || available >= size;
    }

    /** The start (buffer offset) of the last frame that starts before {@code limit}. */
    private int lastFrameStartBefore(int limit, int readStart) {
        int pos = start;
        int last = start;
        while (pos < limit) {
            last = pos;
            if (pos + Header.SIZE > limit) {
                break;
            }
            long size = Integer.toUnsignedLong(buf.get(JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos + 4));
            if (size < Header.SIZE) {
                break; // checkHeader reports it
            }
            pos += (int) Math.min(size, Integer.MAX_VALUE - pos);
        }
        return last;
    }

    private long checkHeader(int at) {
        long size = Integer.toUnsignedLong(buf.get(LE_INT, at + 4));
        int flags = buf.get(LE_INT, at + 8);
        if (size < Header.SIZE) {
            throw bad("header.size " + size + " is smaller than the " + Header.SIZE + "-byte header");
        }
        if (size > maxMessageSize) {
            throw bad("header.size " + size + " exceeds the limit of " + maxMessageSize + " bytes");
        }
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw bad("header.flags 0x" + Integer.toHexString(flags) + " has unknown bits 0x" + Integer.toHexString(flags & ~KNOWN_FLAGS));
        }
        int type = flags & Header.TYPE_MASK;
        if (type != Header.TYPE_COMMAND && type != Header.TYPE_REPLY) {
            throw bad("header.flags type " + type + " is neither command (0) nor reply (1)");
        }
        return size;
    }

    private GvtException bad(String what) {
        closePendingFds();
        return new GvtException(ErrorCode.PROTOCOL_ERROR, what);
    }

    private static final java.lang.foreign.ValueLayout.OfInt LE_INT = JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.foreign.ValueLayout.OfShort LE_SHORT = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Moves the buffered bytes to the front and grows the buffer so that {@code need} bytes fit from {@link #start}. */
    private void ensureRoom(long need) {
        if (start > 0 && (buf.byteSize() - start < need || end == buf.byteSize())) {
            MemorySegment.copy(buf, start, buf, 0, end - start);
            base += start;
            end -= start;
            start = 0;
        }
        if (buf.byteSize() < need) {
            Arena bigger = Arena.ofShared();
            MemorySegment grown = bigger.allocate(Math.max(need, 2 * buf.byteSize()), 8);
            MemorySegment.copy(buf, 0, grown, 0, end);
            arena.close();
            arena = bigger;
            buf = grown;
        }
    }

    /** The buffer holding the current frame (valid until {@link #consume}). */
    public MemorySegment buffer() {
        return buf;
    }

    /** The current frame's offset in {@link #buffer()}. */
    public int offset() {
        return start;
    }

    /** The current frame's size (header included). */
    public int size() {
        return frameSize;
    }

    public int id() {
        return Short.toUnsignedInt(buf.get(LE_SHORT, start));
    }

    public int command() {
        return Short.toUnsignedInt(buf.get(LE_SHORT, start + 2));
    }

    public int flags() {
        return buf.get(LE_INT, start + 8);
    }

    public int error() {
        return buf.get(LE_INT, start + 12);
    }

    /** The current frame's fds (the caller owns them from now on); empty for most frames. */
    public int[] takeFds() {
        if (!fdsPending) {
            return NO_FDS;
        }
        PendingFds p = fds.peek();
        if (p != null && p.frameStart() == base + start) {
            fds.poll();
            fdsPending = !fds.isEmpty();
            return p.fds();
        }
        return NO_FDS;
    }

    /** Done with the current frame: its bytes may be overwritten; fds not taken are closed. */
    public void consume() {
        if (fdsPending) {
            for (int fd : takeFds()) {
                Libc.rawClose(fd);
            }
        }
        start += frameSize;
        frameSize = -1;
        if (start == end) {
            base += start;
            start = 0;
            end = 0;
        }
    }

    private void closePendingFds() {
        for (PendingFds p : fds) {
            for (int fd : p.fds()) {
                Libc.rawClose(fd);
            }
        }
        fds.clear();
        fdsPending = false;
    }

    @Override
    public void close() {
        closePendingFds();
        arena.close();
    }
}
