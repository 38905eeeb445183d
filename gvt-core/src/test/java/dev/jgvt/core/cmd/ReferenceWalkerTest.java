package dev.jgvt.core.cmd;

import static dev.jgvt.core.cmd.Fixture.APERTURE;
import static dev.jgvt.core.cmd.Fixture.FOREIGN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reference walker flags what it must flag, so the property tests built on it can fail. */
final class ReferenceWalkerTest {
    private static List<String> walk(Engine engine, int... dws) {
        try (Arena arena = Arena.ofConfined(); CommandScanner scanner = CommandScanner.gen9()) {
            MemorySegment ring = arena.allocate(4L * dws.length);
            for (int i = 0; i < dws.length; i++) {
                ring.set(Fixture.DW, 4L * i, dws[i]);
            }
            ReferenceWalker walker = new ReferenceWalker(CommandTable.gen9(), Gen9RegisterPolicy.load(),
                    Fixture.PARTITION, Fixture.HWSP, engine, scanner.batches());
            walker.walkRing(ring);
            return walker.violations;
        }
    }

    @Test
    void flagsUnsafeStreams() {
        assertThat(walk(Engine.RCS, (0x20 << 23) | (1 << 22) | 2, (int) FOREIGN, 0, 1)).hasSize(1);
        assertThat(walk(Engine.RCS, (0x20 << 23) | (1 << 22) | 2, (int) APERTURE, 0, 1)).isEmpty();
        assertThat(walk(Engine.RCS, (0x22 << 23) | 1, 0x100000, 0)).hasSize(1);
        assertThat(walk(Engine.RCS, (0x22 << 23) | 1, 0x44050, 0)).hasSize(1);
        assertThat(walk(Engine.RCS, (0x31 << 23) | 1, (int) APERTURE, 0)).singleElement().asString()
                .contains("unscanned");
        assertThat(walk(Engine.RCS, (0x23 << 23) | 1, 0, 0)).singleElement().asString().contains("MI_UPDATE_GTT");
        assertThat(walk(Engine.RCS, 0x7A000004, (1 << 14) | (1 << 21), 0x40, 0, 0, 0)).hasSize(1);
        assertThat(walk(Engine.RCS, 0x7A000004, (1 << 14) | (1 << 24), (int) Fixture.HWSP + 8, 0, 0, 0)).isEmpty();
        assertThat(walk(Engine.BCS, 0x7A000004)).singleElement().asString().contains("unknown");
        assertThat(walk(Engine.RCS, 0x0A << 23)).singleElement().asString().contains("batch end in the ring");
        assertThat(walk(Engine.RCS, 0x02 << 23)).singleElement().asString().contains("MI_USER_INTERRUPT");
    }
}
