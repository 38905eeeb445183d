package dev.jgvt.plugin.kvm.os;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Memory shared through a file descriptor: an anonymous memfd of a fixed size that can be mapped
 * ({@link #map}) any number of times in this process, and whose fd can be passed to another process,
 * which maps the same pages. This is how guest RAM is shared between a VMM and a vfio-user server.
 *
 * <p>Threading: safe from any thread. Closing the fd does not unmap existing {@link Mapping}s.
 */
public final class SharedMemory implements AutoCloseable {
    private final int fd;
    private final long size;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SharedMemory(int fd, long size) {
        this.fd = fd;
        this.size = size;
    }

    /** A new close-on-exec memfd named {@code name} (shown in /proc), sized {@code size} bytes (zero filled). */
    public static SharedMemory create(String name, long size) {
        requireNonNull(name, "name is null");
        if (size <= 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "shared memory size " + size + " must be positive");
        }
        int fd = Libc.memfdCreate(name, Libc.MFD_CLOEXEC);
        try {
            Libc.ftruncate(fd, size);
        } catch (GvtException e) {
            Libc.rawClose(fd);
            throw e;
        }
        return new SharedMemory(fd, size);
    }

    /** Adopts an fd of a memory file received from elsewhere; {@code size} is what the sender declared. */
    public static SharedMemory adopt(int fd, long size) {
        if (fd < 0 || size <= 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "adopt fd " + fd + " size " + size);
        }
        return new SharedMemory(fd, size);
    }

    public int fd() {
        return fd;
    }

    public long size() {
        return size;
    }

    /** Maps the whole file {@code MAP_SHARED} with {@code prot} ({@link Libc#PROT_READ}|PROT_WRITE). */
    public Mapping map(int prot) {
        return map(0, size, prot);
    }

    /** Maps {@code [offset, offset + length)} of the file; {@code offset} must be page aligned. */
    public Mapping map(long offset, long length, int prot) {
        if (closed.get()) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "memfd " + fd + " is closed");
        }
        return Mapping.of(fd, offset, length, prot);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }

    /**
     * One {@code mmap} of a file: the segment is valid until {@link #close()}, which unmaps it; any
     * access afterwards throws {@link IllegalStateException} (the segment belongs to a shared arena).
     */
    public static final class Mapping implements AutoCloseable {
        private final Arena arena;
        private final MemorySegment segment;
        private final AtomicBoolean unmapped = new AtomicBoolean();

        private Mapping(Arena arena, MemorySegment segment) {
            this.arena = arena;
            this.segment = segment;
        }

        /** Maps {@code length} bytes of {@code fd} at {@code offset} shared with {@code prot}. */
        public static Mapping of(int fd, long offset, long length, int prot) {
            if (length <= 0 || offset < 0 || (offset & 4095) != 0) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT,
                        "mmap of fd " + fd + ": offset " + offset + " length " + length + " (offset must be page aligned)");
            }
            MemorySegment raw = Libc.mmap(length, prot, Libc.MAP_SHARED, fd, offset);
            Arena arena = Arena.ofShared();
            long address = raw.address();
            MemorySegment segment = raw.reinterpret(length, arena, s -> Libc.rawMunmap(address, length));
            return new Mapping(arena, segment);
        }

        public MemorySegment segment() {
            return segment;
        }

        /** Unmaps; idempotent. */
        @Override
        public void close() {
            if (unmapped.compareAndSet(false, true)) {
                arena.close();
            }
        }
    }
}
