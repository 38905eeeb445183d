package dev.jgvt.core.display;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Source of periodic virtual vblanks. Injectable so tests drive vblanks by hand; the default uses one
 * daemon scheduler thread shared by all vGPUs (GVT-g uses a per-vGPU hrtimer that only posts a request).
 */
public interface VblankClock {
    /** Runs {@code tick} every {@code periodNanos} until the returned handle is cancelled. */
    Ticking start(Runnable tick, long periodNanos);

    /** The clock's time in nanoseconds (the scan-line position is measured from the last tick with it). */
    default long nanoTime() {
        return System.nanoTime();
    }

    /** A running periodic tick. */
    @FunctionalInterface
    interface Ticking {
        void cancel();
    }

    /** The shared real-time clock. */
    static VblankClock system() {
        return SystemClock.INSTANCE;
    }

    /** The real-time implementation. */
    final class SystemClock implements VblankClock {
        static final SystemClock INSTANCE = new SystemClock();
        private final ScheduledExecutorService executor;

        private SystemClock() {
            ThreadFactory factory = r -> {
                Thread t = new Thread(r, "jgvt-vblank");
                t.setDaemon(true);
                return t;
            };
            executor = Executors.newSingleThreadScheduledExecutor(factory);
        }

        @Override
        public Ticking start(Runnable tick, long periodNanos) {
            ScheduledFuture<?> future = executor.scheduleAtFixedRate(tick, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
            return () -> future.cancel(false);
        }
    }
}
