package dev.jgvt.core.mmio;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Unhandled accesses: every one counted, each offset logged once, at most 20 lines a second. */
final class AccessLogTest {
    private long now = 5_000_000_000L;
    private final AccessLog log = new AccessLog("test", () -> now);

    @Test
    void anOffsetIsLoggedOnceHoweverOftenItIsHit() {
        for (int i = 0; i < 100; i++) {
            log.record(0x4, "read of an unhandled register");
        }
        log.record(0x6, "unaligned write"); // same dword
        assertThat(log.count()).isEqualTo(101);
        assertThat(log.lines()).isEqualTo(1);

        now += 10_000_000_000L;
        log.record(0x4, "read of an unhandled register");
        assertThat(log.lines()).as("a logged offset stays quiet in later windows").isEqualTo(1);
    }

    @Test
    void newOffsetsAreRateLimitedPerSecond() {
        for (int i = 0; i < 50; i++) {
            log.record(0x1000 + 4L * i, "read of an unhandled register");
        }
        assertThat(log.count()).isEqualTo(50);
        assertThat(log.lines()).isEqualTo(AccessLog.LINES_PER_SECOND);

        now += 999_999_999L;
        log.record(0x9000, "read of an unhandled register");
        assertThat(log.lines()).as("still the same second").isEqualTo(AccessLog.LINES_PER_SECOND);

        now += 1;
        log.record(0x9004, "read of an unhandled register");
        log.record(0x1000, "read of an unhandled register"); // seen in the first second
        assertThat(log.lines()).isEqualTo(AccessLog.LINES_PER_SECOND + 1);
        assertThat(log.count()).isEqualTo(53);
    }

    @Test
    void clearingLetsEveryOffsetBeLoggedAgain() {
        log.record(0x4, "read of an unhandled register");
        log.clear();
        log.record(0x4, "read of an unhandled register");
        assertThat(log.lines()).isEqualTo(2);
        assertThat(log.count()).isEqualTo(2);
    }

    @Test
    void everyAccessIsCountedPerDwordOffset() {
        for (int i = 0; i < 300; i++) {
            log.record(0x70000, "read of an unhandled register");
        }
        log.record(0x68980, "write to an unhandled register");
        log.record(0x68982, "unaligned write");
        log.clear(); // a reset logs offsets again but keeps counting
        log.record(0x70000, "read of an unhandled register");
        assertThat(log.perOffset()).containsExactly(java.util.Map.entry(0x68980L, 2L), java.util.Map.entry(0x70000L, 301L));
    }

    @Test
    void offsetsBeyondTheTablesCapacityStillCountInTheTotal() {
        for (int i = 0; i < AccessLog.COUNTED_OFFSETS + 10; i++) {
            log.record(4L * i, "read of an unhandled register");
        }
        log.record(0, "read of an unhandled register");
        assertThat(log.perOffset()).hasSize(AccessLog.COUNTED_OFFSETS).containsEntry(0L, 2L);
        assertThat(log.count()).isEqualTo(AccessLog.COUNTED_OFFSETS + 11);
    }

    @Test
    void negativeOffsetsAreCountedButNotLogged() {
        log.record(-4, "read outside the register file");
        assertThat(log.count()).isEqualTo(1);
        assertThat(log.lines()).isZero();
        assertThat(log.perOffset()).isEmpty();
    }
}
