package dev.jgvt.sim.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Different engines execute at the same time from different threads without disturbing each other. */
final class ConcurrentEnginesTest {
    private final GpuMemory mem = new GpuMemory();

    @AfterEach
    void close() {
        mem.close();
    }

    @Test
    void fourEnginesRunConcurrently() throws Exception {
        List<Engine> engines = List.of(Engine.RCS, Engine.BCS, Engine.VCS, Engine.VECS);
        List<GpuMemory.Ring> rings = new ArrayList<>();
        List<GpuMemory.Surface> data = new ArrayList<>();
        for (int e = 0; e < engines.size(); e++) {
            GpuMemory.Surface d = mem.ggtt(0x100_0000L + 0x10_0000L * e, 1);
            GpuMemory.Ring ring = mem.ring(0x200_0000L + 0x10_0000L * e, 4096, 0);
            for (int i = 0; i < 64; i++) {
                ring.emit(Cmd.lri(0x2600, i + 1000 * e)).emit(Cmd.srm(true, 0x2600, d.address() + 4L * i));
            }
            rings.add(ring);
            data.add(d);
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(engines.size())) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int e = 0; e < engines.size(); e++) {
                int index = e;
                results.add(pool.submit(() -> {
                    boolean ok = true;
                    for (int round = 0; round < 200; round++) {
                        ok &= rings.get(index).run(engines.get(index), 0).completed();
                    }
                    return ok;
                }));
            }
            for (Future<Boolean> r : results) {
                assertThat(r.get()).isTrue();
            }
        }
        for (int e = 0; e < engines.size(); e++) {
            for (int i = 0; i < 64; i++) {
                assertThat(data.get(e).getInt(4L * i)).isEqualTo(i + 1000 * e);
            }
            assertThat(mem.engines.readRegister(engines.get(e), 0x2600)).isEqualTo(63 + 1000 * e);
        }
    }
}
