package dev.jgvt.plugin.kvm.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

final class LibcTest {
    @Test
    void readOnAClosedFdIsEbadfWithTheCallNamed() {
        int fd = Libc.eventfd(1, Libc.EFD_CLOEXEC);
        Libc.close(fd);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            assertThat(Libc.rawRead(fd, buf, 8)).isEqualTo(-Errno.EBADF);
            assertThatThrownBy(() -> Libc.read(fd, buf))
                    .isInstanceOfSatisfying(GvtException.class, g -> assertThat(g.code()).isEqualTo(ErrorCode.IO_ERROR))
                    .hasMessage("read: EBADF (errno 9)");
        }
    }

    @Test
    void closingTwiceIsEbadf() {
        int fd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        Libc.close(fd);
        assertThatThrownBy(() -> Libc.close(fd)).hasMessage("close: EBADF (errno 9)");
    }

    @Test
    void errnoIsCapturedPerThread() throws Exception {
        int fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(8);
            long[] other = new long[1];
            Thread t = Thread.ofPlatform().start(() -> other[0] = Libc.rawRead(-1, buf, 8));
            long mine = Libc.rawRead(fd, buf, 8);
            t.join();
            assertThat(mine).isEqualTo(-Errno.EAGAIN);
            assertThat(other[0]).isEqualTo(-Errno.EBADF);
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void unknownErrnoHasANumericName() {
        assertThat(Errno.name(Errno.ENOSPC)).isEqualTo("ENOSPC");
        assertThat(Errno.name(4000)).isEqualTo("errno-4000");
        assertThat(Libc.ioError("ioctl", 25).getMessage()).isEqualTo("ioctl: ENOTTY (errno 25)");
    }

    @Test
    void mmapOfABadFdIsEbadf() {
        assertThatThrownBy(() -> Libc.mmap(4096, Libc.PROT_READ, Libc.MAP_SHARED, -1, 0))
                .hasMessage("mmap: EBADF (errno 9)");
    }
}
