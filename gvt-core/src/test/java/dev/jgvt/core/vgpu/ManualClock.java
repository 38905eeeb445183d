package dev.jgvt.core.vgpu;

import dev.jgvt.core.display.VblankClock;
import java.util.ArrayList;
import java.util.List;

/** A vblank clock driven by the test: {@link #tick()} runs every started tick once. */
final class ManualClock implements VblankClock {
    final List<Runnable> running = new ArrayList<>();
    long lastPeriod;

    @Override
    public Ticking start(Runnable tick, long periodNanos) {
        running.add(tick);
        lastPeriod = periodNanos;
        return () -> running.remove(tick);
    }

    void tick() {
        for (Runnable r : List.copyOf(running)) {
            r.run();
        }
    }
}
