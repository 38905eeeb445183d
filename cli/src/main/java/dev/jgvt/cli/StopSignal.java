package dev.jgvt.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C and SIGTERM for a long-running command: a shutdown hook that signals the command and then holds the JVM
 * until the command says it has stopped (or a grace period ran out), so the command can detach and write its
 * results before the process exits (with 130 or 143, as the JVM reports the signal). Close it when done.
 */
final class StopSignal implements AutoCloseable {
    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread hook;

    private StopSignal(String name, long graceSeconds) {
        this.hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(graceSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
    }

    /** Installs the hook; the JVM waits at most {@code graceSeconds} for {@link #close} after a signal. */
    static StopSignal install(String name, long graceSeconds) {
        StopSignal signal = new StopSignal(name, graceSeconds);
        Runtime.getRuntime().addShutdownHook(signal.hook);
        return signal;
    }

    /** Waits up to {@code millis}; true once a signal arrived. */
    boolean await(long millis) throws InterruptedException {
        return stop.await(millis, TimeUnit.MILLISECONDS);
    }

    /** The command has stopped: lets a pending shutdown go on, or removes the hook. */
    @Override
    public void close() {
        stopped.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook is running
        }
    }
}
