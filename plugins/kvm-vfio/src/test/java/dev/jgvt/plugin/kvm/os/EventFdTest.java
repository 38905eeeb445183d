package dev.jgvt.plugin.kvm.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

final class EventFdTest {
    @Test
    void writesAddUpAndReadReturnsAndZeroesTheCounter() {
        try (EventFd e = EventFd.create()) {
            e.signal();
            e.signal();
            e.signal(40);
            assertThat(e.read()).isEqualTo(42);
            assertThat(e.tryRead()).isEmpty();
        }
    }

    @Test
    void initialValueIsReadable() {
        try (EventFd e = EventFd.create(7, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC)) {
            assertThat(e.tryRead()).isEqualTo(OptionalLong.of(7));
        }
    }

    @Test
    void semaphoreModeReturnsOneAndDecrements() {
        try (EventFd e = EventFd.create(3, Libc.EFD_SEMAPHORE | Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC)) {
            assertThat(e.read()).isEqualTo(1);
            assertThat(e.read()).isEqualTo(1);
            assertThat(e.read()).isEqualTo(1);
            assertThat(e.tryRead()).isEmpty();
            e.signal(2);
            assertThat(e.read()).isEqualTo(1);
            assertThat(e.read()).isEqualTo(1);
            assertThat(e.tryRead()).isEmpty();
        }
    }

    @Test
    void emptyNonBlockingReadIsEagain() {
        try (EventFd e = EventFd.create()) {
            assertThatThrownBy(e::read)
                    .isInstanceOfSatisfying(GvtException.class, g -> assertThat(g.code()).isEqualTo(ErrorCode.IO_ERROR))
                    .hasMessage("read(eventfd): EAGAIN (errno 11)");
        }
    }

    @Test
    void writingTheMaximumIsEinval() {
        try (EventFd e = EventFd.create()) {
            assertThatThrownBy(() -> e.signal(-1L)).hasMessage("write(eventfd): EINVAL (errno 22)");
        }
    }

    @Test
    void blockingReadWaitsForASignalFromAnotherThread() throws Exception {
        try (EventFd e = EventFd.create(0, Libc.EFD_CLOEXEC)) {
            Thread signaller = Thread.ofPlatform().start(() -> e.signal(5));
            assertThat(e.read()).isEqualTo(5);
            signaller.join();
            assertThatThrownBy(e::tryRead).isInstanceOfSatisfying(GvtException.class,
                    g -> assertThat(g.code()).isEqualTo(ErrorCode.ILLEGAL_STATE));
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseIsIllegalState() {
        EventFd e = EventFd.create();
        e.close();
        e.close();
        assertThat(e.isClosed()).isTrue();
        assertThatThrownBy(e::signal).isInstanceOfSatisfying(GvtException.class,
                g -> assertThat(g.code()).isEqualTo(ErrorCode.ILLEGAL_STATE));
    }
}
