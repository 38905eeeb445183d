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

    /** The clock does not move by itself: frames begin only with {@link #tick()}. */
    @Override
    public long nanoTime() {
        return 0;
    }

    void tick() {
        for (Runnable r : List.copyOf(running)) {
            r.run();
        }
    }
}
