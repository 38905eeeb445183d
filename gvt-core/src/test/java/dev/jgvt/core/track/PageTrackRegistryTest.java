package dev.jgvt.core.track;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.PageTracker;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

final class PageTrackRegistryTest {
    /** A hand-written tracker: reference counts per frame; frames >= 1000 are not guest RAM. */
    private static final class Tracker implements PageTracker {
        final Map<Long, Integer> refs = new HashMap<>();
        boolean detached;

        @Override
        public void track(long gfn) {
            if (detached) {
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "detached");
            }
            if (gfn >= 1000) {
                throw new GvtException(ErrorCode.NOT_MAPPED, "gfn " + gfn);
            }
            refs.merge(gfn, 1, Integer::sum);
        }

        @Override
        public void untrack(long gfn) {
            if (detached) {
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "detached");
            }
            Integer n = refs.get(gfn);
            if (n == null) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "not tracked " + gfn);
            }
            if (n == 1) {
                refs.remove(gfn);
            } else {
                refs.put(gfn, n - 1);
            }
        }

        @Override
        public boolean isTracked(long gfn) {
            return refs.containsKey(gfn);
        }
    }

    private final Tracker tracker = new Tracker();
    private final PageTrackRegistry registry = new PageTrackRegistry(Optional.of(tracker));

    @Test
    void registrationTracksAndDispatchesPerFrame() {
        List<String> seen = new ArrayList<>();
        registry.register(5, (gpa, bytes) -> seen.add("5:" + Long.toHexString(gpa) + "+" + bytes.byteSize()));
        registry.register(6, (gpa, bytes) -> seen.add("6:" + Long.toHexString(gpa) + "+" + bytes.byteSize()));
        assertThat(tracker.isTracked(5)).isTrue();
        assertThat(registry.dispatch(5L << 12 | 0xFF8, MemorySegment.ofArray(new byte[16]))).isTrue();
        assertThat(seen).containsExactly("5:5ff8+8", "6:6000+8");
        assertThat(registry.dispatch(7L << 12, MemorySegment.ofArray(new byte[8]))).isFalse();
        assertThat(registry.strays()).isEqualTo(1);
        assertThatThrownBy(() -> registry.register(5, (g, b) -> {}))
                .isInstanceOfSatisfying(GvtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS));
    }

    @Test
    void protectionCanBeToggledWhileRegistered() {
        registry.register(9, (g, b) -> {});
        registry.disable(9);
        assertThat(tracker.isTracked(9)).isFalse();
        assertThat(registry.isRegistered(9)).isTrue();
        registry.disable(9);
        assertThat(registry.enable(9)).isTrue();
        assertThat(tracker.refs.get(9L)).isEqualTo(1);
        registry.unregister(9);
        assertThat(tracker.isTracked(9)).isFalse();
        registry.unregister(9);
    }

    @Test
    void failuresLeaveNothingRegisteredAndDetachIsQuiet() {
        assertThatThrownBy(() -> registry.register(2000, (g, b) -> {})).isInstanceOf(GvtException.class);
        assertThat(registry.isRegistered(2000)).isFalse();
        registry.register(1, (g, b) -> {});
        tracker.detached = true;
        registry.clear();
        assertThat(registry.size()).isZero();
        assertThat(registry.enable(1)).isFalse();
    }

    @Test
    void withoutATrackerNothingIsProtected() {
        PageTrackRegistry none = new PageTrackRegistry(Optional.empty());
        none.register(3, (g, b) -> {});
        assertThat(none.canProtect()).isFalse();
        assertThat(none.isProtected(3)).isFalse();
        assertThat(none.enable(3)).isFalse();
    }

    /** A tracker that cannot trap right now (UNSUPPORTED) leaves frames registered but unprotected; other errors still fail. */
    @Test
    void unsupportedTrackingRegistersWithoutProtection() {
        PageTracker refusing = new PageTracker() {
            @Override
            public void track(long gfn) {
                if (gfn == 13) {
                    throw new GvtException(ErrorCode.NOT_MAPPED, "gfn 13");
                }
                throw new GvtException(ErrorCode.UNSUPPORTED, "this VMM cannot trap guest writes");
            }

            @Override
            public void untrack(long gfn) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "not tracked");
            }

            @Override
            public boolean isTracked(long gfn) {
                return false;
            }
        };
        PageTrackRegistry r = new PageTrackRegistry(Optional.of(refusing));
        List<Long> seen = new ArrayList<>();
        r.register(12, (gpa, bytes) -> seen.add(gpa));
        assertThat(r.isRegistered(12)).isTrue();
        assertThat(r.isProtected(12)).isFalse();
        assertThat(r.unprotectable()).isEqualTo(1);
        assertThat(r.enable(12)).as("protection still cannot be turned on").isFalse();
        assertThatThrownBy(() -> r.register(13, (g, b) -> {}))
                .isInstanceOfSatisfying(GvtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_MAPPED));
        assertThat(r.isRegistered(13)).isFalse();
        r.unregister(12);
        assertThat(r.isRegistered(12)).isFalse();
    }

    @Test
    void repeatedWritesToOneFrameReachTheCurrentHandlerOnly() {
        List<String> calls = new ArrayList<>();
        MemorySegment eight = MemorySegment.ofArray(new long[1]);
        registry.register(7, (gpa, bytes) -> calls.add("a@" + Long.toHexString(gpa)));
        registry.register(8, (gpa, bytes) -> calls.add("b@" + Long.toHexString(gpa) + "+" + bytes.byteSize()));
        assertThat(registry.dispatch(7L << 12 | 8, eight)).isTrue();
        assertThat(registry.dispatch(7L << 12 | 16, eight)).isTrue();
        registry.unregister(7);
        assertThat(registry.dispatch(7L << 12 | 24, eight)).as("unregistered since the last write").isFalse();
        registry.register(7, (gpa, bytes) -> calls.add("c@" + Long.toHexString(gpa)));
        assertThat(registry.dispatch(7L << 12 | 32, eight)).isTrue();
        // a write across the frame boundary is split, and the remembered frame does not swallow the second part
        assertThat(registry.dispatch(7L << 12 | 0xFFC, eight)).isTrue();
        assertThat(calls).containsExactly("a@7008", "a@7010", "c@7020", "c@7ffc", "b@8000+4");
        assertThat(registry.strays()).isEqualTo(1);
        assertThat(registry.dispatched()).isEqualTo(5);
    }
}
