package dev.jgvt.plugin.fake;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InterruptSink;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's MSI line. A signal is counted and delivered; delivery increments the guest's MSI count and
 * wakes its waiters with {@link LockSupport#unpark} (no lock the signaller could wait on). With a listener
 * or a delivery delay configured, delivery runs on a delivery thread of the guest's own: the signaller
 * only enqueues, so a slow listener (a stalled VMM) never holds it up.
 */
final class FakeInterrupts implements InterruptSink {
    private static final Logger log = LoggerFactory.getLogger(FakeInterrupts.class);

    private final FakeGuest guest;
    private final AtomicLong signalled = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<>();
    private volatile long delayNanos;
    private volatile boolean masked;
    private volatile Optional<LongConsumer> listener = Optional.empty();
    private volatile ScheduledThreadPoolExecutor deliveryThread;

    FakeInterrupts(FakeGuest guest, Duration delay) {
        this.guest = guest;
        this.delayNanos = delay.toNanos();
        if (delayNanos > 0) {
            deliveryThread();
        }
    }

    @Override
    public void signalMsi() {
        guest.checkOpen();
        signalled.incrementAndGet();
        if (masked) {
            dropped.incrementAndGet();
            return;
        }
        long delay = delayNanos;
        if (delay == 0 && listener.isEmpty()) {
            deliver();
            return;
        }
        ScheduledThreadPoolExecutor executor = deliveryThread;
        try {
            executor.schedule(this::deliverAndNotify, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            guest.checkOpen();
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "MSI delivery of guest " + guest.name() + " is shut down", e);
        }
    }

    @Override
    public long droppedSignals() {
        return dropped.get();
    }

    long signalled() {
        return signalled.get();
    }

    long delivered() {
        return delivered.get();
    }

    void setDelay(Duration delay) {
        requireNonNull(delay, "delay is null");
        if (delay.isNegative()) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "negative MSI delay " + delay);
        }
        deliveryThread();
        delayNanos = delay.toNanos();
    }

    void setListener(Optional<LongConsumer> listener) {
        requireNonNull(listener, "listener is null");
        if (listener.isPresent()) {
            deliveryThread();
        }
        this.listener = listener;
    }

    void setMasked(boolean masked) {
        this.masked = masked;
    }

    /** Waits until more than {@code seen} MSIs were delivered or the timeout passes. */
    long await(long seen, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Thread me = Thread.currentThread();
        while (true) {
            long count = delivered.get();
            if (count > seen) {
                return count;
            }
            waiters.add(me);
            try {
                count = delivered.get();
                long left = deadline - System.nanoTime();
                if (count > seen || left <= 0 || guest.isClosed()) {
                    return count;
                }
                LockSupport.parkNanos(this, left);
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while waiting for an MSI of guest " + guest.name());
                }
            } finally {
                waiters.remove(me);
            }
        }
    }

    /** Stops delivery (detach): queued deliveries are discarded, waiters return. */
    void shutdown() {
        ScheduledThreadPoolExecutor executor = deliveryThread;
        if (executor != null) {
            executor.shutdownNow();
        }
        wakeWaiters();
    }

    private long deliver() {
        long count = delivered.incrementAndGet();
        wakeWaiters();
        return count;
    }

    /**
     * Runs on the single delivery thread: the listener (a stalled VMM, say) sees MSI number {@code count}
     * first and the guest's count moves only after it returns, so a guest that has seen N MSIs knows the
     * listener has seen them too.
     */
    private void deliverAndNotify() {
        long count = delivered.get() + 1;
        listener.ifPresent(l -> {
            try {
                l.accept(count);
            } catch (RuntimeException e) {
                log.warn("MSI listener of guest {} failed on MSI {}", guest.name(), count, e);
            }
        });
        deliver();
    }

    private void wakeWaiters() {
        if (waiters.isEmpty()) {
            return; // the usual case of an MSI signalled during the guest's own trap: nobody waits, nothing to walk
        }
        for (Thread waiter : waiters) {
            LockSupport.unpark(waiter);
        }
    }

    private synchronized void deliveryThread() {
        if (deliveryThread == null) {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
                Thread thread = new Thread(runnable, "fake-msi-" + guest.name());
                thread.setDaemon(true);
                return thread;
            });
            executor.setRemoveOnCancelPolicy(true);
            deliveryThread = executor;
        }
    }
}
