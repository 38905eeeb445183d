package dev.jgvt.core.exec;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * GVT-g's time-based scheduling policy (gvt-g.md §7.5), without threads: the caller passes the time. One vGPU
 * owns the whole GPU at a time. Every {@value #BALANCE_PERIOD_NANOS} ns a stage counter advances modulo
 * {@value #BALANCE_STAGES}: at stage 0 each vGPU's time slice is set to period × weight / Σ weights and its
 * balance reset to it (debt forgiven once per second), at the other stages the slice is added to the balance
 * (so overuse carries over as debt and underuse as credit). A pick walks the vGPUs with work in
 * least-recently-picked order: the first in its start-up priority window is taken whatever its balance, and only
 * when none is in its window, the first with a positive balance; the one taken goes to the back of the order. With
 * nobody eligible the GPU idles.
 *
 * <p>The priority window ({@value #PRIORITY_WINDOW_NANOS} ns) starts when the vGPU becomes active —
 * {@link #activate}, at its first submission after it was added or {@link #deactivate}d (a device reset) — as
 * GVT-g starts it when the guest enables execlists, i.e. when its driver probes, not when the vGPU is created. It
 * keeps a probing driver's first requests from waiting for balance stages: i915 gives them 200 ms, and a vGPU whose
 * first workload put it in debt (a slow first execution on the host) would otherwise wait for the stages to pay the
 * debt back, even with the GPU idle. Unlike GVT-g, vGPUs in their windows take turns (each
 * pick moves the one taken to the back) instead of the first in the order keeping the GPU while it has work.
 *
 * @param <K> the vGPU handle
 */
final class TimeSlicePolicy<K> {
    /** The scheduling tick (GVT-g's {@code GVT_DEFAULT_TIME_SLICE}). */
    static final long TIME_SLICE_NANOS = 1_000_000L;
    static final long BALANCE_PERIOD_NANOS = 100_000_000L;
    static final int BALANCE_STAGES = 10;
    /** A newly active vGPU is preferred for this long (GVT-g's {@code GVT_SCHED_VGPU_PRI_TIME}). */
    static final long PRIORITY_WINDOW_NANOS = 2_000_000_000L;

    private static final class Entry<K> {
        final K key;
        final int weight;
        long priorityUntil;
        /** Activated since added or deactivated: its priority window has started. */
        boolean active;
        long allocated;
        long left;
        long used;

        Entry(K key, int weight, long priorityUntil) {
            this.key = key;
            this.weight = weight;
            this.priorityUntil = priorityUntil;
        }
    }

    /** Least recently picked first. */
    private final List<Entry<K>> order = new ArrayList<>();
    private Entry<K> current;
    private long scheduledInAt;
    private long periodStart;
    private int stage;
    private final long priorityWindow;

    TimeSlicePolicy(long now) {
        this(now, PRIORITY_WINDOW_NANOS);
    }

    TimeSlicePolicy(long now, long priorityWindow) {
        this.periodStart = now;
        this.priorityWindow = priorityWindow;
    }

    /**
     * Adds a vGPU at the front of the order, in a priority window from {@code now}, with a fresh time slice; not yet
     * active, so its first {@link #activate} starts the window again.
     */
    void add(K key, int weight, long now) {
        requireNonNull(key, "key is null");
        if (weight < 1) {
            throw new IllegalArgumentException("weight must be positive: " + weight);
        }
        if (find(key) != null) {
            throw new IllegalArgumentException(key + " is scheduled already");
        }
        Entry<K> e = new Entry<>(key, weight, now + priorityWindow);
        order.add(0, e);
        reallocate();
        for (Entry<K> other : order) {
            other.left = Math.min(other.left, other.allocated); // a newcomer shrinks everybody's slice
        }
        e.left = e.allocated;
    }

    /**
     * {@code key} submits work at {@code now}: unless it is active already, it becomes active and its priority window
     * starts now (GVT-g's start of scheduling when the guest enables execlists). Does nothing for an unknown key.
     */
    void activate(K key, long now) {
        Entry<K> e = find(key);
        if (e != null && !e.active) {
            e.active = true;
            e.priorityUntil = now + priorityWindow;
        }
    }

    /** {@code key}'s device was reset: its next {@link #activate} starts a new priority window (GVT-g stops it). */
    void deactivate(K key) {
        Entry<K> e = find(key);
        if (e != null) {
            e.active = false;
        }
    }

    void remove(K key) {
        Entry<K> e = find(key);
        if (e == null) {
            return;
        }
        order.remove(e);
        if (current == e) {
            current = null;
        }
        reallocate();
    }

    /**
     * Charges the current owner for the time up to {@code now}, runs the balance periods that have passed, and
     * returns who should own the GPU next (the current owner, another vGPU, or null to idle).
     */
    K pick(long now, Predicate<K> hasWork) {
        account(now);
        while (now - periodStart >= BALANCE_PERIOD_NANOS) {
            periodStart += BALANCE_PERIOD_NANOS;
            balance();
        }
        int taken = -1;
        for (int i = 0; i < order.size() && taken < 0; i++) {
            Entry<K> e = order.get(i);
            if (now < e.priorityUntil && hasWork.test(e.key)) {
                taken = i; // in its priority window: whatever its balance
            }
        }
        for (int i = 0; i < order.size() && taken < 0; i++) {
            Entry<K> e = order.get(i);
            if (e.left > 0 && hasWork.test(e.key)) {
                taken = i;
            }
        }
        if (taken < 0) {
            return null;
        }
        Entry<K> e = order.remove(taken);
        order.add(e);
        return e.key;
    }

    /**
     * What {@link #pick} answers when {@code key} is the only vGPU with work, without asking about the others: it, if
     * it is in its priority window or has balance left (it moves to the back of the order), else null.
     */
    K pickOnly(K key, long now) {
        account(now);
        while (now - periodStart >= BALANCE_PERIOD_NANOS) {
            periodStart += BALANCE_PERIOD_NANOS;
            balance();
        }
        Entry<K> e = find(key);
        if (e == null || (now >= e.priorityUntil && e.left <= 0)) {
            return null;
        }
        order.remove(e);
        order.add(e);
        return key;
    }

    /** The GPU changed hands at {@code now} (after the previous owner's engines drained). */
    void switchedTo(K key, long now) {
        account(now);
        current = key == null ? null : find(key);
        scheduledInAt = now;
    }

    /** Nanoseconds {@code key} has owned the GPU in total; 0 for an unknown key. */
    long used(K key) {
        Entry<K> e = find(key);
        return e == null ? 0 : e.used;
    }

    /** The remaining balance of {@code key} (may be negative: debt). */
    long left(K key) {
        Entry<K> e = find(key);
        return e == null ? 0 : e.left;
    }

    private void account(long now) {
        if (current != null) {
            long ran = now - scheduledInAt;
            current.left -= ran;
            current.used += ran;
        }
        scheduledInAt = now;
    }

    private void balance() {
        reallocate();
        for (Entry<K> e : order) {
            e.left = stage == 0 ? e.allocated : e.left + e.allocated;
        }
        stage = (stage + 1) % BALANCE_STAGES;
    }

    private void reallocate() {
        long total = 0;
        for (Entry<K> e : order) {
            total += e.weight;
        }
        for (Entry<K> e : order) {
            e.allocated = BALANCE_PERIOD_NANOS * e.weight / total;
        }
    }

    private Entry<K> find(K key) {
        for (Entry<K> e : order) {
            if (e.key.equals(key)) {
                return e;
            }
        }
        return null;
    }
}
